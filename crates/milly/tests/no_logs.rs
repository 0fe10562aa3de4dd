//! No connection logs, proven (policy 5.2 and 6.3): `milly serve` at the most verbose log level
//! carries a real client's (sing-box) TCP and UDP traffic to a distinctive destination, and
//! fails one connection to a refused port; afterwards milly's output, its store and every file
//! in its data directory are searched for the destinations, the client's source ports and the
//! user's id: nothing. The node's metrics carry no per-user or per-destination label.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use testkit::singbox::{ClientOptions, PacketEncoding};
use testkit::{
    socks, traffic, user_uuid, wait_admitted, EchoMode, MillyHome, Peer, PeerKind, Process,
    TcpEcho, UdpEcho,
};

/// A destination no other line of output has a reason to contain.
const DEST_IP: &str = "127.0.0.77";
const DEST_PORT: u16 = 47999;
/// Nothing listens here: the node's error path.
const REFUSED_PORT: u16 = 47998;
/// The HTTP transports' test's destination port (the tests run at once).
const H2_DEST_PORT: u16 = 47997;
const TELEGRAM_ID: i64 = 7_770_909_090;

/// A TCP echo and a UDP echo on the distinctive destination; they stop when dropped.
async fn echoes() -> (TcpEcho, UdpEcho) {
    echoes_on(DEST_PORT).await
}

async fn echoes_on(port: u16) -> (TcpEcho, UdpEcho) {
    let addr: SocketAddr = format!("{DEST_IP}:{port}").parse().unwrap();
    let tcp = TcpEcho::start_on(addr, EchoMode::Stream).await.unwrap();
    let udp = UdpEcho::start_on(addr).await.unwrap();
    (tcp, udp)
}

/// Local ports of every open TCP connection to `port` on this machine (the clients' side),
/// read from the kernel's table.
fn client_ports_to(port: u16) -> Vec<u16> {
    let mut ports = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let port_of = |f: &str| {
                f.rsplit(':')
                    .next()
                    .and_then(|p| u16::from_str_radix(p, 16).ok())
            };
            if fields.len() > 2 && port_of(fields[2]) == Some(port) {
                ports.extend(port_of(fields[1]));
            }
        }
    }
    ports
}

/// Whether `number` appears in `text` as a number of its own (not inside a longer one, nor
/// the fractional part of a timestamp).
fn mentions_number(text: &str, number: u16) -> bool {
    let needle = number.to_string();
    let bytes = text.as_bytes();
    text.match_indices(&needle).any(|(i, _)| {
        let before = i.checked_sub(1).map(|j| bytes[j]);
        let after = bytes.get(i + needle.len()).copied();
        !before.is_some_and(|b| b.is_ascii_digit() || b == b'.')
            && !after.is_some_and(|b| b.is_ascii_digit())
    })
}

/// Every file under `dir`, recursively, as (path, lossy text).
fn files(dir: &Path) -> Vec<(String, String)> {
    testkit::files::under(dir)
        .unwrap()
        .into_iter()
        .map(|(path, bytes)| (path, String::from_utf8_lossy(&bytes).into_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traffic_at_trace_level_leaves_no_trace_of_where_who_or_from_where() {
    let Some(bin) = PeerKind::SingBox.require() else {
        return;
    };
    let echoes = echoes().await;
    let dest = echoes.0.addr();
    let home = MillyHome::new("").unwrap();
    let mut cmd = home.command(&["serve"]);
    cmd.env("RUST_LOG", "trace").env("RUST_BACKTRACE", "1");
    let mut serve = Process::start("milly-serve", cmd, home.dir()).unwrap();
    serve
        .wait_for_tcp(home.node_addr(), Duration::from_secs(60))
        .await
        .unwrap();
    let link = home.add_user(TELEGRAM_ID, 30).unwrap();
    wait_admitted(home.node_addr(), &link, Duration::from_secs(5))
        .await
        .unwrap();
    let options = ClientOptions {
        packet_encoding: PacketEncoding::Xudp,
        ..Default::default()
    };
    let client = Peer::client(PeerKind::SingBox, &bin, &link, &options)
        .await
        .unwrap();

    // TCP, noting the client's source ports while its connection to the node is open.
    let stream = socks::connect(client.addr(), dest).await.unwrap();
    let mut source_ports = client_ports_to(home.node_addr().port());
    let payload = traffic::random_bytes(64 * 1024);
    let echoed = traffic::exchange(stream, payload.clone()).await.unwrap();
    assert_eq!(echoed, payload, "the TCP traffic really went through");

    // UDP over XUDP.
    traffic::udp_roundtrips(client.addr(), dest, &[16, 512, 1400])
        .await
        .unwrap();
    source_ports.extend(client_ports_to(home.node_addr().port()));
    source_ports.sort_unstable();
    source_ports.dedup();
    assert!(
        !source_ports.is_empty(),
        "no client connection to the node was seen"
    );

    // The error path: a destination that refuses.
    let refused: SocketAddr = format!("{DEST_IP}:{REFUSED_PORT}").parse().unwrap();
    if let Ok(s) = socks::connect(client.addr(), refused).await {
        let _ = tokio::time::timeout(
            Duration::from_secs(5),
            traffic::exchange(s, b"knock".to_vec()),
        )
        .await;
    }

    // Metrics: aggregate only.
    let bearer = format!("Bearer {}", home.admin_token().unwrap());
    let (status, metrics) = testkit::http::get_with(
        home.web_addr().port(),
        "/admin/metrics",
        &[("Authorization", &bearer)],
    )
    .unwrap();
    assert_eq!(status, 200, "{metrics}");
    assert!(metrics.contains("milly_"), "{metrics}");
    for line in metrics.lines().filter(|l| !l.starts_with('#')) {
        if let Some((_, labels)) = line.split_once('{') {
            let labels = labels.to_ascii_lowercase();
            for name in [
                "user", "uuid", "telegram", "dest", "addr", "ip=", "port", "client", "host",
            ] {
                assert!(
                    !labels.contains(name),
                    "a metric is labelled by {name}: {line}"
                );
            }
        }
    }

    // SIGTERM, and wait for the exit so every log line is written.
    serve.terminate(Duration::from_secs(15)).await;
    drop(client);
    let log = serve.log();
    assert!(
        log.contains("TRACE") || log.contains("DEBUG"),
        "logging was not verbose"
    );

    let db = home.dir().join("milly-data/milly.db");
    let store = store::Store::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let dump = serde_json::to_string(&store.dump().await.unwrap()).unwrap();
    store.close().await;

    let mut places: Vec<(String, String)> = vec![
        ("milly's stdout and stderr".into(), log.clone()),
        ("the store".into(), dump.clone()),
        ("the metrics".into(), metrics),
    ];
    places.extend(files(&home.dir().join("milly-data")));
    for (place, text) in &places {
        assert!(
            !text.contains(DEST_IP),
            "{place} names the destination address"
        );
        for port in [DEST_PORT, REFUSED_PORT].iter().chain(&source_ports) {
            assert!(!mentions_number(text, *port), "{place} names port {port}");
        }
    }
    assert!(
        !log.contains(&user_uuid(&link)),
        "milly's output names the user's id"
    );
    assert!(
        !log.contains(&TELEGRAM_ID.to_string()),
        "milly's output names the user's Telegram id"
    );
    assert_eq!(
        dump.matches(&user_uuid(&link)).count(),
        1,
        "the user's id is stored once, as their credential, and nowhere else"
    );
    assert!(!log.contains("panicked"), "milly panicked");
}

#[test]
fn the_number_search_ignores_longer_numbers_and_timestamps() {
    assert!(mentions_number("to 127.0.0.1:47999 ok", 47999));
    assert!(mentions_number("port=47999", 47999));
    assert!(!mentions_number("id 1479990", 47999));
    assert!(!mentions_number("2026-11-24T20:50:12.479990Z", 47999));
}

/// The HTTP transports' requests carry the secret path, the Host, a session id and padding:
/// at trace level none of it, nor the destination or the user, reaches milly's output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xhttp_and_grpc_at_trace_level_leave_no_path_host_destination_or_user() {
    let Some(bin) = PeerKind::Xray.require() else {
        return;
    };
    const PATH: &str = "/n0-l0gs-path";
    const HOST: &str = "no-logs-host.example";
    let echoes = echoes_on(H2_DEST_PORT).await;
    let dest = echoes.0.addr();
    let home = MillyHome::new(&format!("[node.tls]\nserver_name = \"{HOST}\"\n")).unwrap();
    let env = [
        ("MILLY_NODE__TRANSPORTS", r#"["tcp","xhttp","grpc"]"#),
        ("MILLY_NODE__HTTP__PATH", PATH),
    ];
    let mut cmd = home.command(&["serve"]);
    cmd.envs(env)
        .env("RUST_LOG", "trace")
        .env("RUST_BACKTRACE", "1");
    let mut serve = Process::start("milly-serve", cmd, home.dir()).unwrap();
    serve
        .wait_for_tcp(home.node_addr(), Duration::from_secs(60))
        .await
        .unwrap();
    let id = TELEGRAM_ID.to_string();
    let mut add = home.command(&["user", "add", "--telegram-id", &id, "--days", "30"]);
    let out = add.envs(env).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let links: Vec<client::ClientLink> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.trim().starts_with("vless://"))
        .map(|l| client::ClientLink::parse(l.trim()).unwrap())
        .filter(|l| l.transport.name() != "tcp")
        .collect();
    assert_eq!(links.len(), 2, "an xhttp and a grpc link");
    for (link, mode) in [
        (&links[0], Some(client::XhttpMode::PacketUp)),
        (&links[0], Some(client::XhttpMode::StreamUp)),
        (&links[1], None),
    ] {
        let socks_addr = testkit::free_tcp_addr();
        let options = testkit::xray::ClientOptions {
            xhttp_mode: mode,
            trusted_certificate: Some(home.dir().join("milly-data/node-cert.pem")),
            ..Default::default()
        };
        let config = testkit::xray::client_config_with(link, socks_addr, &options);
        let client = Peer::start(PeerKind::Xray, &bin, &config, socks_addr)
            .await
            .unwrap();
        traffic::wait_until_through(client.addr(), dest, Duration::from_secs(15))
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}", client.log()));
        let payload = traffic::random_bytes(64 * 1024);
        let stream = socks::connect(client.addr(), dest).await.unwrap();
        assert_eq!(
            traffic::exchange(stream, payload.clone()).await.unwrap(),
            payload
        );
    }
    serve.terminate(Duration::from_secs(15)).await;
    let log = serve.log();
    assert!(
        log.contains("TRACE") || log.contains("DEBUG"),
        "logging was not verbose"
    );
    for (what, needle) in [
        ("the path", PATH.trim_start_matches('/')),
        ("the Host", HOST),
        ("the padding", "XXXXXXXXXX"),
        ("the destination", DEST_IP),
        ("the user's id", &user_uuid(&links[0])),
    ] {
        let line = log.lines().find(|l| l.contains(needle));
        assert!(line.is_none(), "milly's output names {what}: {line:?}");
    }
    assert!(
        !mentions_number(&log, H2_DEST_PORT),
        "milly's output names the port"
    );
    assert!(!log.contains("panicked"), "milly panicked");
}
