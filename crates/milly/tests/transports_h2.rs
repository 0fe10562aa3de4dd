//! XHTTP and gRPC, the transports the node serves over HTTP/1.1 and HTTP/2, against the real
//! clients that speak them, built from the links `milly user add` prints: over TLS, Xray-core
//! in every XHTTP mode and over gRPC, sing-box over gRPC (v2ray 4.34 has no gRPC);
//! over REALITY (Xray's recommended pairing), Xray in every XHTTP mode and over gRPC. Each
//! carries TCP byte for byte, several connections at once, and UDP. A prober asking for their
//! paths gets the website, a wrong user id gets nothing through, and the node's log names no
//! path, Host or user.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::time::Duration;

use client::{ClientLink, LinkTransport, XhttpMode};
use testkit::{
    interop, probe, traffic, user_uuid, with_user, EchoMode, MillyHome, Peer, PeerKind, Process,
    TcpEcho, TlsSite, UdpEcho,
};

const PATH: &str = "/h2-pr3fix";
const HOST: &str = "h2-transports.example";
const SERVICE: &str = "h2-pr3fix.grpc";
const REALITY_NAME: &str = "www.example.com";
const SHORT_ID: &str = "6ba85179e30d4fc2";
const ADMIT_DEADLINE: Duration = Duration::from_secs(15);
const START_TIMEOUT: Duration = Duration::from_secs(20);
const PROBE_WAIT: Duration = Duration::from_secs(3);
const MIB: usize = 1024 * 1024;

const MODES: [XhttpMode; 4] = [
    XhttpMode::PacketUp,
    XhttpMode::StreamUp,
    XhttpMode::StreamOne,
    XhttpMode::Auto,
];

fn env(transports: &str) -> Vec<(&'static str, String)> {
    vec![
        ("MILLY_NODE__TRANSPORTS", transports.to_owned()),
        ("MILLY_NODE__HTTP__PATH", PATH.to_owned()),
    ]
}

const TLS_TRANSPORTS: &str = r#"["tcp","xhttp","ws","grpc","httpupgrade"]"#;
const REALITY_TRANSPORTS: &str = r#"["tcp","xhttp","grpc"]"#;

/// `milly serve` with `config` and `transports`, and the home it runs in.
async fn serve(config: &str, transports: &str) -> (MillyHome, Process) {
    let home = MillyHome::new(config).unwrap();
    let mut cmd = home.command(&["serve"]);
    cmd.envs(env(transports));
    let mut serve = Process::start("milly-serve", cmd, home.dir()).unwrap();
    serve
        .wait_for_tcp(home.node_addr(), START_TIMEOUT)
        .await
        .unwrap();
    (home, serve)
}

async fn serve_tls() -> (MillyHome, Process) {
    serve(
        &format!("[node.tls]\nserver_name = \"{HOST}\"\n"),
        TLS_TRANSPORTS,
    )
    .await
}

async fn serve_reality(dest: &TlsSite) -> (MillyHome, Process) {
    let private = reality::encode_key(&[0x42; 32]);
    let config = testkit::milly::reality_config(&private, SHORT_ID, REALITY_NAME, dest.addr());
    serve(&config, REALITY_TRANSPORTS).await
}

/// `milly user add` with the same environment: every link it printed.
fn add_user(home: &MillyHome, telegram_id: i64, transports: &str) -> Vec<ClientLink> {
    let id = telegram_id.to_string();
    let mut cmd = home.command(&["user", "add", "--telegram-id", &id, "--days", "30"]);
    cmd.envs(env(transports));
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("vless://"))
        .map(|l| ClientLink::parse(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

fn link_for<'a>(links: &'a [ClientLink], name: &str) -> &'a ClientLink {
    links
        .iter()
        .find(|l| l.transport.name() == name)
        .unwrap_or_else(|| panic!("no {name} link among {links:?}"))
}

/// The node's self-signed certificate, which Xray pins (it has no `allowInsecure`).
fn node_cert(home: &MillyHome) -> PathBuf {
    home.dir().join("milly-data/node-cert.pem")
}

/// A `kind` client for `link` as an app imports it; Xray in `mode` when given.
async fn client(
    kind: PeerKind,
    bin: &Path,
    link: &ClientLink,
    home: &MillyHome,
    mode: Option<XhttpMode>,
) -> Peer {
    let what = format!("{} {}", kind.name(), link.transport.name());
    if kind != PeerKind::Xray {
        return Peer::client(kind, bin, link, &Default::default())
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
    }
    let socks = testkit::free_tcp_addr();
    let options = testkit::xray::ClientOptions {
        xhttp_mode: mode,
        trusted_certificate: Some(node_cert(home)),
        ..Default::default()
    };
    let config = testkit::xray::client_config_with(link, socks, &options);
    Peer::start(kind, bin, &config, socks)
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// TCP (after the user is admitted) and UDP through a `kind` client for `link`.
async fn carries(
    kind: PeerKind,
    bin: &Path,
    link: &ClientLink,
    mode: Option<XhttpMode>,
    home: &MillyHome,
    serve: &Process,
) {
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let client = client(kind, bin, link, home, mode).await;
    let what = format!(
        "{} over {} {}",
        kind.name(),
        link.transport.name(),
        mode.map(XhttpMode::name).unwrap_or_default()
    );
    let logs = || format!("{what}\nclient:\n{}\nnode:\n{}", client.log(), serve.log());
    traffic::wait_through_kept_open(client.addr(), echo.addr(), ADMIT_DEADLINE, logs).await;
    traffic::roundtrips_kept_open(client.addr(), echo.addr(), 4, MIB, &what).await;
    let udp = UdpEcho::start().await.unwrap();
    traffic::udp_roundtrips(client.addr(), udp.addr(), &traffic::udp_sizes_for(kind))
        .await
        .unwrap_or_else(|e| panic!("UDP: {e}: {}", logs()));
}

/// `curl URL ARGS`: the HTTP version it spoke, the status and the body.
fn curl(url: &str, args: &[&str]) -> (String, u16, String) {
    let out = std::process::Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "10"])
        .args(["--write-out", "\n%{http_version} %{http_code}"])
        .args(args)
        .arg(url)
        .output()
        .expect("curl runs (.ci/run installs it)");
    assert!(out.status.success(), "curl {url}: {out:?}");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, tail) = text.rsplit_once('\n').expect("curl's --write-out line");
    let (version, status) = tail.split_once(' ').expect("version and status");
    (
        version.to_owned(),
        status.parse().expect("a status"),
        body.to_owned(),
    )
}

fn assert_log_private(serve: &Process, links: &[ClientLink]) {
    let log = serve.log();
    assert!(!log.contains(PATH), "the node's log names the path");
    assert!(!log.contains(SERVICE), "the node's log names the service");
    assert!(!log.contains(HOST), "the node's log names the Host");
    for link in links {
        assert!(
            !log.contains(&user_uuid(link)),
            "the node's log names a user"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_tls_xray_and_sing_box_carry_tcp_and_udp_over_xhttp_and_grpc() {
    let (home, serve) = serve_tls().await;
    let links = add_user(&home, 7301, TLS_TRANSPORTS);
    assert_eq!(
        links.iter().map(|l| l.transport.name()).collect::<Vec<_>>(),
        ["tcp", "xhttp", "ws", "grpc", "httpupgrade"]
    );
    let xhttp = link_for(&links, "xhttp");
    let grpc = link_for(&links, "grpc");
    assert_eq!(
        xhttp.transport,
        LinkTransport::Xhttp {
            path: format!("{PATH}/xh"),
            host: Some(HOST.into()),
            mode: XhttpMode::Auto,
        }
    );
    assert_eq!(
        grpc.transport,
        LinkTransport::Grpc {
            service_name: SERVICE.into()
        }
    );
    let mut ran = 0;
    if let Some(bin) = PeerKind::Xray.require() {
        for mode in MODES {
            carries(PeerKind::Xray, &bin, xhttp, Some(mode), &home, &serve).await;
        }
        carries(PeerKind::Xray, &bin, grpc, None, &home, &serve).await;
        ran += 1;
    }
    // v2ray 4.34 (Debian's) has no gRPC transport at all: `v2ray -test` refuses the
    // network name (testkit's v2ray builder says so).
    if let Some(bin) = PeerKind::SingBox.require() {
        carries(PeerKind::SingBox, &bin, grpc, None, &home, &serve).await;
        ran += 1;
    }
    if ran > 0 {
        assert_log_private(&serve, &links);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_reality_xray_carries_tcp_and_udp_over_xhttp_and_grpc() {
    let Some(bin) = PeerKind::Xray.require() else {
        return;
    };
    let dest = TlsSite::start(REALITY_NAME);
    let (home, serve) = serve_reality(&dest).await;
    let links = add_user(&home, 7302, REALITY_TRANSPORTS);
    assert_eq!(
        links.iter().map(|l| l.transport.name()).collect::<Vec<_>>(),
        ["tcp", "xhttp", "grpc"]
    );
    let xhttp = link_for(&links, "xhttp");
    assert!(!xhttp.vision, "Vision is for raw TCP only");
    for mode in MODES {
        carries(PeerKind::Xray, &bin, xhttp, Some(mode), &home, &serve).await;
    }
    carries(
        PeerKind::Xray,
        &bin,
        link_for(&links, "grpc"),
        None,
        &home,
        &serve,
    )
    .await;
    assert_log_private(&serve, &links);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prober_of_their_paths_gets_the_website_and_a_wrong_id_gets_nothing_through() {
    let (home, serve) = serve_tls().await;
    let links = add_user(&home, 7303, TLS_TRANSPORTS);
    // Requests a client of ours would not send (no padding, gRPC over HTTP/1.1 or without its
    // content type): each answered as the website answers it directly.
    for request in [
        format!("GET {PATH}/xh/0b7c1e3a HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n"),
        format!("POST {PATH}/xh/ HTTP/1.1\r\nHost: {HOST}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
        format!("GET {PATH}/xh HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n"),
        format!("POST /{SERVICE}/Tun HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/grpc\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
        format!("GET /{SERVICE}/Tun HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n"),
    ] {
        let direct = probe::tcp(home.web_addr(), request.as_bytes(), PROBE_WAIT)
            .await
            .unwrap();
        let via_node = probe::tls(home.node_addr(), HOST, request.as_bytes(), PROBE_WAIT)
            .await
            .unwrap();
        assert!(probe::status_line(&direct).is_some(), "{request}");
        assert_eq!(
            probe::status_line(&via_node),
            probe::status_line(&direct),
            "{request}"
        );
    }
    // A browser speaking HTTP/2 (ALPN h2 is on with XHTTP and gRPC) gets the website's own
    // page and status, forwarded by the node, for the site's paths and for the transports'.
    for path in ["/", "/sub/nope", &format!("{PATH}/xh/x")] {
        let direct = curl(&format!("http://{}{path}", home.web_addr()), &[]);
        let node = home.node_addr();
        let resolve = format!("{HOST}:{}:{}", node.port(), node.ip());
        let via_node = curl(
            &format!("https://{HOST}:{}{path}", node.port()),
            &["--http2", "--insecure", "--resolve", &resolve],
        );
        assert_eq!(via_node.0, "2", "curl spoke HTTP/2 to the node");
        assert_eq!((via_node.1, &via_node.2), (direct.1, &direct.2), "{path}");
    }
    // A wrong id reaches nothing, over each transport and each client that speaks it.
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    for (kind, names) in [
        (PeerKind::Xray, &["xhttp", "grpc"][..]),
        (PeerKind::SingBox, &["grpc"][..]),
    ] {
        let Some(bin) = kind.require() else {
            continue;
        };
        for name in names {
            let stranger = with_user(link_for(&links, name), interop::STRANGER);
            let peer = client(kind, &bin, &stranger, &home, None).await;
            interop::stranger_reaches_nothing(&peer, &echo).await;
        }
    }
    drop(serve);
}
