//! milly's node behind a reverse proxy that terminates TLS and is the website (nginx, Caddy:
//! docs/transports.md's recipes), written once for every proxy's test: `milly serve` with ws,
//! httpupgrade, xhttp and grpc on `[node.http] listen` only and links naming the proxy, Xray-core and
//! sing-box clients built from those links carrying TCP byte for byte and UDP through it, what
//! probes get there, and whose address the node counts a connection against.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use client::{ClientLink, LinkTransport, XhttpMode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use crate::echo::{EchoMode, TcpEcho, UdpEcho};
use crate::milly::MillyHome;
use crate::peer::{running_in_ci, Peer, PeerKind};
use crate::process::Process;
use crate::user_id::user_uuid;
use crate::{free_tcp_addr, probe, traffic, xray};

/// The site's name: the proxy's certificate and `[node.tls] server_name`.
pub const HOST: &str = "proxied.example";
/// The node's `[node.http] path`; the transports are `PATH/ws` and `PATH/up`.
pub const PATH: &str = "/pr0xy-pr3fix";
/// How long a proxy or the node may take to open its port.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a new user may take to get through (the node learns of users through its feed).
const ADMIT_DEADLINE: Duration = Duration::from_secs(15);
const PROBE_WAIT: Duration = Duration::from_secs(3);
/// Connections per source in [`ProxiedNode::start_counting`]'s node.
const SOURCE_CAP: usize = 2;

/// The proxy's binary at the first of `paths` that exists, or `None` (the test is skipped)
/// outside CI; in CI a missing one fails, since `.ci/run` installs the Debian `package`.
pub fn require(package: &str, paths: &[&str]) -> Option<PathBuf> {
    let found = paths.iter().map(PathBuf::from).find(|p| p.is_file());
    if found.is_none() {
        let msg = format!("{package} not found; `.ci/run` installs the Debian package `{package}`");
        assert!(!running_in_ci(), "{msg}");
        eprintln!("SKIPPED: {msg}");
    }
    found
}

/// `milly serve` with only ws and httpupgrade, plain on a free loopback `[node.http] listen`,
/// links naming the proxy's port, the proxy on loopback trusted to name its clients.
pub struct ProxiedNode {
    env: Vec<(&'static str, String)>,
    listen: SocketAddr,
    serve: Process,
    home: MillyHome,
}

impl ProxiedNode {
    /// Serving, links naming `public` (the proxy's TLS address).
    pub async fn start(public: SocketAddr) -> Self {
        Self::with_env(public, Vec::new()).await
    }

    /// [`ProxiedNode::start`] allowing each source only a couple of connections, for
    /// [`sources_are_the_clients_the_proxy_names`].
    pub async fn start_counting(public: SocketAddr) -> Self {
        Self::with_env(
            public,
            vec![
                (
                    "MILLY_NODE__MAX_CONNECTIONS_PER_SOURCE",
                    SOURCE_CAP.to_string(),
                ),
                // Held upgrades wait for their VLESS request: long enough for every probe.
                ("MILLY_NODE__HANDSHAKE_TIMEOUT_SECS", "60".to_owned()),
            ],
        )
        .await
    }

    async fn with_env(public: SocketAddr, extra: Vec<(&'static str, String)>) -> Self {
        let listen = free_tcp_addr();
        let home = MillyHome::new(&format!("[node.tls]\nserver_name = \"{HOST}\"\n"))
            .expect("a milly home");
        let mut env = vec![
            (
                "MILLY_NODE__TRANSPORTS",
                r#"["ws","httpupgrade","xhttp","grpc"]"#.to_owned(),
            ),
            ("MILLY_NODE__HTTP__PATH", PATH.to_owned()),
            ("MILLY_NODE__HTTP__LISTEN", listen.to_string()),
            ("MILLY_NODE__PUBLIC_PORT", public.port().to_string()),
            ("MILLY_WEB__TRUSTED_PROXIES", r#"["127.0.0.1"]"#.to_owned()),
        ];
        env.extend(extra);
        let mut cmd = home.command(&["serve"]);
        cmd.envs(env.iter().map(|(k, v)| (k, v)));
        let mut serve = Process::start("milly-serve", cmd, home.dir()).expect("milly serve");
        serve
            .wait_for_tcp(listen, START_TIMEOUT)
            .await
            .expect("[node.http] listen opens");
        ProxiedNode {
            env,
            listen,
            serve,
            home,
        }
    }

    /// `[node.http] listen`, where the proxy forwards the transports' paths.
    pub fn listen(&self) -> SocketAddr {
        self.listen
    }

    pub fn log(&self) -> String {
        self.serve.log()
    }

    /// `milly user add` under the node's settings, and the links it printed: ws then
    /// httpupgrade, both naming the proxy (`public`) and [`HOST`].
    pub fn add_user(&self, telegram_id: i64, public: SocketAddr) -> Vec<ClientLink> {
        let mut cmd = self.home.command(&[
            "user",
            "add",
            "--telegram-id",
            &telegram_id.to_string(),
            "--days",
            "30",
        ]);
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        let out = cmd.output().expect("milly user add runs");
        assert!(out.status.success(), "{out:?}");
        let links: Vec<ClientLink> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("vless://"))
            .map(|l| ClientLink::parse(l).unwrap_or_else(|e| panic!("{l}: {e}")))
            .collect();
        assert_eq!(
            links.iter().map(|l| l.transport.name()).collect::<Vec<_>>(),
            ["ws", "httpupgrade", "xhttp", "grpc"]
        );
        for link in &links {
            assert_eq!(
                (link.host.as_str(), link.port),
                ("127.0.0.1", public.port())
            );
            assert_eq!(link.server_name, HOST);
        }
        links
    }

    /// The node's log names no path, Host or user of `links`.
    pub fn assert_log_private(&self, links: &[ClientLink]) {
        let log = self.log();
        assert!(!log.contains(PATH), "the node's log names the path");
        assert!(!log.contains(HOST), "the node's log names the Host");
        for link in links {
            assert!(
                !log.contains(&user_uuid(link)),
                "the node's log names a user"
            );
        }
    }
}

/// Xray-core and sing-box clients (those installed) for each of `links` they speak (Xray over
/// XHTTP in each mode), through the proxy whose certificate is `cert`: a user's first
/// connection gets through, then TCP byte for byte and UDP datagrams. How many client, link
/// and mode runs there were; `logs` for failure messages.
pub async fn carry_through(links: &[ClientLink], cert: &Path, logs: impl Fn() -> String) -> usize {
    let mut ran = 0;
    for kind in [PeerKind::Xray, PeerKind::SingBox] {
        let Some(bin) = kind.require() else {
            continue;
        };
        for link in links {
            let modes: &[Option<XhttpMode>] = match (&link.transport, kind) {
                // sing-box has no XHTTP.
                (LinkTransport::Xhttp { .. }, PeerKind::SingBox) => &[],
                (LinkTransport::Xhttp { .. }, _) => &[
                    Some(XhttpMode::PacketUp),
                    Some(XhttpMode::StreamUp),
                    Some(XhttpMode::StreamOne),
                ],
                _ => &[None],
            };
            for &mode in modes {
                let what = format!(
                    "{} over {} {}",
                    kind.name(),
                    link.transport.name(),
                    mode.map(XhttpMode::name).unwrap_or_default()
                );
                let echo = TcpEcho::start(EchoMode::Stream).await.expect("an echo");
                let peer = client(kind, &bin, link, cert, mode).await;
                traffic::wait_through_kept_open(peer.addr(), echo.addr(), ADMIT_DEADLINE, || {
                    format!("{what}\nclient:\n{}\n{}", peer.log(), logs())
                })
                .await;
                traffic::roundtrips_kept_open(peer.addr(), echo.addr(), 2, 256 * 1024, &what).await;
                let udp = UdpEcho::start().await.expect("a UDP echo");
                traffic::udp_roundtrips(peer.addr(), udp.addr(), &traffic::udp_sizes_for(kind))
                    .await
                    .unwrap_or_else(|e| panic!("{what} UDP: {e}\nclient:\n{}", peer.log()));
                ran += 1;
            }
        }
    }
    ran
}

/// A `kind` client for `link`; Xray is told to trust the proxy's certificate (it refuses
/// `allowInsecure`) and to use XHTTP's `mode`, sing-box follows the link.
async fn client(
    kind: PeerKind,
    bin: &Path,
    link: &ClientLink,
    cert: &Path,
    mode: Option<XhttpMode>,
) -> Peer {
    if kind != PeerKind::Xray {
        return Peer::client(kind, bin, link, &Default::default())
            .await
            .unwrap_or_else(|e| panic!("{} {}: {e}", kind.name(), link.transport.name()));
    }
    let socks = free_tcp_addr();
    let options = xray::ClientOptions {
        xhttp_mode: mode,
        trusted_certificate: Some(cert.to_path_buf()),
        ..Default::default()
    };
    let config = xray::client_config_with(link, socks, &options);
    Peer::start(kind, bin, &config, socks)
        .await
        .expect("an Xray client")
}

/// What probes get: through the proxy at `public`, any other path is the proxy's `website`
/// and a transport's path without an upgrade reaches the node, which answers a bare 404 (no
/// website behind the plain port); the plain port itself (`listen`) serves nothing else.
pub async fn probes_see_the_website(public: SocketAddr, listen: SocketAddr, website: &str) {
    for (path, expect) in [
        ("/".to_owned(), "200"),
        (format!("{PATH}x"), "200"),
        (format!("{PATH}/ws"), "404"),
        (format!("{PATH}/up"), "404"),
    ] {
        let get = format!("GET {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n");
        let answer = probe::tls(public, HOST, get.as_bytes(), PROBE_WAIT)
            .await
            .expect("a TLS probe");
        let status = probe::status_line(&answer).unwrap_or_default();
        assert!(status.contains(expect), "{path}: {status}");
        let body = String::from_utf8_lossy(&answer);
        assert_eq!(body.contains(website), expect == "200", "{path}: {body}");
    }
    let direct = probe::tcp(listen, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", PROBE_WAIT)
        .await
        .expect("a plain probe");
    assert!(probe::status_line(&direct)
        .unwrap_or_default()
        .contains("404"));
}

/// Through the proxy at `public` to a [`ProxiedNode::start_counting`] node: connections are
/// counted against the client the proxy names, not against the proxy, and a client cannot
/// name someone else. Upgrades from 127.0.0.2 are held until its cap is full, then one more is
/// refused (the proxy answers 502) while clients at other addresses still get their 101, one
/// of them claiming in its own `X-Forwarded-For` to be 127.0.0.2.
pub async fn sources_are_the_clients_the_proxy_names(public: SocketAddr) {
    let full = loopback(2);
    let mut held = Vec::new();
    for _ in 0..SOURCE_CAP {
        let (status, stream) = upgrade(public, full, None).await;
        assert!(status.contains("101"), "from {full}: {status}");
        held.push(stream);
    }
    let (status, _) = upgrade(public, full, None).await;
    assert!(
        status.contains("502"),
        "{full} over its cap (the node counts someone else): {status}"
    );
    let (status, _) = upgrade(public, loopback(3), None).await;
    assert!(
        status.contains("101"),
        "another client (the node counts the proxy): {status}"
    );
    let (status, _) = upgrade(public, loopback(4), Some(full)).await;
    assert!(
        status.contains("101"),
        "a client naming {full} itself is still counted as itself: {status}"
    );
    drop(held);
}

fn loopback(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))
}

/// An HTTPUpgrade request from `source` through the proxy, optionally with a forwarded header
/// of the client's own; the status line and the connection (to hold it open).
async fn upgrade(
    public: SocketAddr,
    source: IpAddr,
    claims: Option<IpAddr>,
) -> (String, TlsStream<TcpStream>) {
    let mut tls = probe::tls_from(source, public, HOST, PROBE_WAIT)
        .await
        .expect("TLS to the proxy");
    let forwarded = claims
        .map(|ip| format!("X-Forwarded-For: {ip}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "GET {PATH}/up HTTP/1.1\r\nHost: {HOST}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         {forwarded}\r\n"
    );
    tls.write_all(request.as_bytes()).await.expect("a request");
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    let _ = tokio::time::timeout(PROBE_WAIT, async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match tls.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    (probe::status_line(&head).unwrap_or_default(), tls)
}
