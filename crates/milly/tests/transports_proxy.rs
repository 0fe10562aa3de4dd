//! `[node.http] listen` behind a real nginx that terminates TLS (docs/transports.md's recipe):
//! `milly serve` with ws and httpupgrade on a plain loopback port, links that name the proxy's
//! host and port (`[node] public_port`), and Xray-core and sing-box clients built from those
//! links carrying TCP byte for byte and UDP through nginx. Any other path through nginx gets
//! nginx's own website; the transport's path without an upgrade gets the node's bare 404. The
//! node's log names no path, Host or user.
//!
//! nginx comes from the Debian package `.ci/run` installs: missing in CI is a failure.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use client::ClientLink;
use serde_json::json;
use testkit::{
    probe, socks, traffic, user_uuid, xray, EchoMode, MillyHome, Peer, PeerKind, Process, TcpEcho,
    UdpEcho,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PATH: &str = "/pr0xy-pr3fix";
const HOST: &str = "proxied.example";
const START_TIMEOUT: Duration = Duration::from_secs(20);
const ADMIT_DEADLINE: Duration = Duration::from_secs(15);
const PROBE_WAIT: Duration = Duration::from_secs(3);
/// What nginx itself answers for every path but the transports' (the operator's website).
const WEBSITE: &str = "nginx website";

/// nginx's binary, or `None` (skipped) outside CI.
fn nginx() -> Option<PathBuf> {
    let found = ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file());
    if found.is_none() {
        let msg = "nginx not found; `.ci/run` installs the Debian package `nginx`";
        assert!(!testkit::peer::running_in_ci(), "{msg}");
        eprintln!("SKIPPED: {msg}");
    }
    found
}

/// The `server` block docs/transports.md shows, with the test's addresses and files.
fn server_block(public: SocketAddr, listen: SocketAddr, cert: &Path, key: &Path) -> String {
    format!(
        r#"    server {{
        listen {public} ssl;
        server_name {HOST};
        ssl_certificate {cert};
        ssl_certificate_key {key};

        # The website: everything but the transports' paths.
        location / {{
            return 200 "{WEBSITE}\n";
        }}

        # milly's ws and httpupgrade: [node.http] path, to [node.http] listen.
        location {PATH}/ {{
            access_log off;
            proxy_pass http://{listen};
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_buffering off;
            proxy_read_timeout 1h;
            proxy_send_timeout 1h;
        }}
    }}
"#,
        cert = cert.display(),
        key = key.display(),
    )
}

/// nginx in `dir` (pid, logs and temp files there), TLS on `public` for [`HOST`].
async fn start_nginx(bin: &Path, dir: &Path, public: SocketAddr, listen: SocketAddr) -> Process {
    let (cert, key) = node::generate_self_signed(&[HOST.into()]).unwrap();
    let cert_path = dir.join("cert.pem");
    let key_path = dir.join("key.pem");
    std::fs::write(&cert_path, cert).unwrap();
    std::fs::write(&key_path, key).unwrap();
    let d = dir.display();
    let conf = format!(
        // One process: killing it at the end leaves no orphaned workers behind.
        "master_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
         events {{ worker_connections 256; }}\n\
         http {{\n    access_log off;\n    client_body_temp_path {d}/body;\n    proxy_temp_path {d}/proxy;\n    \
         fastcgi_temp_path {d}/fastcgi;\n    uwsgi_temp_path {d}/uwsgi;\n    scgi_temp_path {d}/scgi;\n\n{}}}\n",
        server_block(public, listen, &cert_path, &key_path)
    );
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    let mut cmd = Command::new(bin);
    cmd.arg("-p")
        .arg(dir)
        .arg("-e")
        .arg(dir.join("error.log"))
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .args(["-g", "daemon off;"]);
    let mut nginx = Process::start("nginx", cmd, dir).unwrap();
    nginx.wait_for_tcp(public, START_TIMEOUT).await.unwrap();
    nginx
}

/// `milly serve` with only ws and httpupgrade, plain on `listen`, links naming `public`'s port.
fn env(listen: SocketAddr, public: SocketAddr) -> Vec<(&'static str, String)> {
    vec![
        (
            "MILLY_NODE__TRANSPORTS",
            r#"["ws","httpupgrade"]"#.to_owned(),
        ),
        ("MILLY_NODE__HTTP__PATH", PATH.to_owned()),
        ("MILLY_NODE__HTTP__LISTEN", listen.to_string()),
        ("MILLY_NODE__PUBLIC_PORT", public.port().to_string()),
        ("MILLY_WEB__TRUSTED_PROXIES", r#"["127.0.0.1"]"#.to_owned()),
    ]
}

fn add_user(home: &MillyHome, env: &[(&str, String)], telegram_id: i64) -> Vec<ClientLink> {
    let mut cmd = home.command(&[
        "user",
        "add",
        "--telegram-id",
        &telegram_id.to_string(),
        "--days",
        "30",
    ]);
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("vless://"))
        .map(|l| ClientLink::parse(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

/// Waits until one ping goes through `proxy` and back (the user is admitted).
async fn wait_through(proxy: SocketAddr, echo: SocketAddr, log: impl Fn() -> String) {
    let start = std::time::Instant::now();
    loop {
        let attempt = async {
            let mut s = socks::connect(proxy, echo).await.ok()?;
            s.write_all(b"ping").await.ok()?;
            let mut got = [0u8; 4];
            s.read_exact(&mut got).await.ok()?;
            (&got == b"ping").then_some(())
        };
        if let Ok(Some(())) = tokio::time::timeout(Duration::from_secs(3), attempt).await {
            return;
        }
        assert!(
            start.elapsed() < ADMIT_DEADLINE,
            "nothing got through:\n{}",
            log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Two concurrent round trips of 256 KiB, each compared byte for byte (read back in full
/// before closing: WebSocket carries no half-close).
async fn roundtrips(proxy: SocketAddr, echo: SocketAddr) {
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..2 {
        set.spawn(async move {
            let payload = traffic::random_bytes(256 * 1024);
            let stream = socks::connect(proxy, echo).await.unwrap();
            let (mut r, mut w) = stream.into_split();
            let sent = payload.clone();
            let writer = tokio::spawn(async move {
                for chunk in sent.chunks(16 * 1024) {
                    w.write_all(chunk).await.unwrap();
                }
                w
            });
            let mut got = vec![0u8; payload.len()];
            tokio::time::timeout(Duration::from_secs(60), r.read_exact(&mut got))
                .await
                .expect("the echo came back in time")
                .unwrap();
            drop(writer.await.unwrap());
            assert!(got == payload, "the echo differs from what was sent");
        });
    }
    while let Some(done) = set.join_next().await {
        done.unwrap();
    }
}

/// A `kind` client for `link`; Xray is told to trust nginx's certificate (it refuses
/// `allowInsecure`), sing-box follows the link.
async fn client(kind: PeerKind, bin: &Path, link: &ClientLink, cert: &Path) -> Peer {
    if kind != PeerKind::Xray {
        return Peer::client(kind, bin, link, &Default::default())
            .await
            .unwrap_or_else(|e| panic!("{} {}: {e}", kind.name(), link.transport.name()));
    }
    let socks = testkit::free_tcp_addr();
    let mut config = xray::client_config(link, socks, &[], false);
    let tls = &mut config["outbounds"][0]["streamSettings"]["tlsSettings"];
    tls.as_object_mut().unwrap().remove("allowInsecure");
    tls["certificates"] = json!([{ "usage": "verify", "certificateFile": cert }]);
    Peer::start(kind, bin, &config, socks).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xray_and_sing_box_carry_tcp_and_udp_through_nginx_to_the_plain_listener() {
    let Some(nginx_bin) = nginx() else {
        return;
    };
    let listen = testkit::free_tcp_addr();
    let public = testkit::free_tcp_addr();
    let home = MillyHome::new(&format!("[node.tls]\nserver_name = \"{HOST}\"\n")).unwrap();
    let env = env(listen, public);
    let mut cmd = home.command(&["serve"]);
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    let mut serve = Process::start("milly-serve", cmd, home.dir()).unwrap();
    serve.wait_for_tcp(listen, START_TIMEOUT).await.unwrap();

    // nginx's files in a directory it may enter should it drop privileges (started as root).
    let nginx_dir = tempfile::tempdir().unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(nginx_dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let nginx = start_nginx(&nginx_bin, nginx_dir.path(), public, listen).await;

    // Links name the proxy: public_host and public_port, the proxy's TLS there.
    let links = add_user(&home, &env, 7101);
    assert_eq!(
        links.iter().map(|l| l.transport.name()).collect::<Vec<_>>(),
        ["ws", "httpupgrade"]
    );
    for link in &links {
        assert_eq!(
            (link.host.as_str(), link.port),
            ("127.0.0.1", public.port())
        );
        assert_eq!(link.server_name, HOST);
    }

    let cert = nginx_dir.path().join("cert.pem");
    let mut ran = 0;
    for kind in [PeerKind::Xray, PeerKind::SingBox] {
        let Some(bin) = kind.require() else {
            continue;
        };
        for link in &links {
            let what = format!(
                "{} over {} through nginx",
                kind.name(),
                link.transport.name()
            );
            let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
            let peer = client(kind, &bin, link, &cert).await;
            wait_through(peer.addr(), echo.addr(), || {
                format!(
                    "{what}\nclient:\n{}\nnode:\n{}\nnginx:\n{}",
                    peer.log(),
                    serve.log(),
                    std::fs::read_to_string(nginx_dir.path().join("error.log")).unwrap_or_default()
                )
            })
            .await;
            roundtrips(peer.addr(), echo.addr()).await;
            let udp = UdpEcho::start().await.unwrap();
            traffic::udp_roundtrips(peer.addr(), udp.addr(), &traffic::udp_sizes_for(kind))
                .await
                .unwrap_or_else(|e| panic!("{what} UDP: {e}\nclient:\n{}", peer.log()));
            ran += 1;
        }
    }

    // Through nginx: another path is nginx's website; the transport's path without an
    // upgrade reaches the node, which answers a bare 404 (no website behind the plain port).
    for (path, expect) in [
        ("/".to_owned(), "200"),
        (format!("{PATH}x"), "200"),
        (format!("{PATH}/ws"), "404"),
        (format!("{PATH}/up"), "404"),
    ] {
        let get = format!("GET {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n");
        let answer = probe::tls(public, HOST, get.as_bytes(), PROBE_WAIT)
            .await
            .unwrap();
        let status = probe::status_line(&answer).unwrap_or_default();
        assert!(status.contains(expect), "{path}: {status}");
        let body = String::from_utf8_lossy(&answer);
        assert_eq!(body.contains(WEBSITE), expect == "200", "{path}: {body}");
    }
    // The plain port itself serves nothing else either.
    let direct = probe::tcp(listen, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", PROBE_WAIT)
        .await
        .unwrap();
    assert!(probe::status_line(&direct)
        .unwrap_or_default()
        .contains("404"));

    if ran > 0 {
        let log = serve.log();
        assert!(!log.contains(PATH), "the node's log names the path");
        assert!(!log.contains(HOST), "the node's log names the Host");
        assert!(
            !log.contains(&user_uuid(&links[0])),
            "the node's log names a user"
        );
    }
    drop(nginx);
}
