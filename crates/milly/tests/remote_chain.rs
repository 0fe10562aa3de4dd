//! An entry → exit chain with the real binaries: `milly serve` as the control plane, an exit
//! node `eu-1` (REALITY) and two entry nodes through it, `ru-1` (REALITY, for Xray-core) and
//! `ru-2` (TLS, for sing-box; Xray-core refuses the self-signed certificate a TLS node has).
//! The entries may not reach private addresses and the exit may, so the loopback echo
//! servers answer only traffic that left from the exit. Links name each node by its
//! location, an entry with its exit's; third-party clients carry byte-exact TCP and UDP from
//! those links through the exit directly and through both entries; a block on the control
//! plane ends the user's open connections through every hop within a second.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine as _;
use client::ClientLink;
use testkit::milly::remote::{self, link_to, printed_links, run_node};
use testkit::traffic::{self, TrafficError};
use testkit::{free_port, interop, socks, EchoMode, MillyHome, Peer, PeerKind, Process, TcpEcho};

const REALITY_NAME: &str = "www.example.com";
const USER: i64 = 4001;
const OTHER: i64 = 4002;
const CUT_DEADLINE: Duration = Duration::from_secs(1);
const MIB: usize = 1024 * 1024;
/// `🇷🇺 Moscow → 🇩🇪 Frankfurt` as a link's `#fragment` (RFC 3986 percent-encoding).
const MOSCOW_VIA_FRANKFURT: &str =
    "%F0%9F%87%B7%F0%9F%87%BA%20Moscow%20%E2%86%92%20%F0%9F%87%A9%F0%9F%87%AA%20Frankfurt";

struct Chain {
    home: MillyHome,
    _serve: Process,
    _dest: testkit::TlsSite,
    _work: tempfile::TempDir,
    exit: Process,
    exit_port: u16,
    ru1_port: u16,
    ru2_port: u16,
    /// ru-1, ru-2.
    entries: Vec<Process>,
}

/// The control plane with eu-1 and its two entries registered, joined and running.
async fn start_chain() -> Chain {
    let dest = testkit::TlsSite::start(REALITY_NAME);
    let dest_addr = dest.addr().to_string();
    let control_port = free_port();
    let (exit_port, ru1_port, ru2_port) = (free_port(), free_port(), free_port());
    let home = MillyHome::new(&format!(
        "[control]\nlisten = \"127.0.0.1:{control_port}\"\n"
    ))
    .unwrap();
    let serve = home.serve().await.unwrap();
    let work = tempfile::tempdir().unwrap();
    let reality = ["--dest", dest_addr.as_str(), "--server-name", REALITY_NAME];

    let exit_join = remote::add_node(&home, "eu-1", exit_port, "🇩🇪 Frankfurt", &reality);
    let mut ru1_flags = reality.to_vec();
    ru1_flags.extend_from_slice(&["--via", "eu-1"]);
    let ru1_join = remote::add_node(&home, "ru-1", ru1_port, "🇷🇺 Moscow", &ru1_flags);
    let ru2_join = remote::add_node(
        &home,
        "ru-2",
        ru2_port,
        "🇷🇺 Kazan",
        &["--security", "tls", "--via", "eu-1"],
    );
    // An entry cannot be an exit: a chain has one hop.
    let refused = home.run(&[
        "node",
        "add",
        "ru-3",
        "--address",
        "127.0.0.1:1",
        "--via",
        "ru-1",
    ]);
    assert!(refused.is_err(), "an entry was accepted as an exit");
    // Nor can an exit become an entry later.
    let refused = home.run(&["node", "set", "eu-1", "via=ru-2"]);
    assert!(refused.is_err(), "an exit was made an entry");

    let exit_config = remote::join(work.path(), "eu-1", &exit_join, true);
    let ru1_config = remote::join(work.path(), "ru-1", &ru1_join, false);
    let ru2_config = remote::join(work.path(), "ru-2", &ru2_join, false);
    let exit = start(work.path(), &exit_config, "eu-1", exit_port).await;
    let ru1 = start(work.path(), &ru1_config, "ru-1", ru1_port).await;
    let ru2 = start(work.path(), &ru2_config, "ru-2", ru2_port).await;
    remote::wait_for_log(&exit, "an exit for 2 entry node(s)").await;
    remote::wait_for_log(&ru1, "an entry").await;
    remote::wait_for_log(&ru2, "an entry").await;
    Chain {
        home,
        _serve: serve,
        _dest: dest,
        _work: work,
        exit,
        exit_port,
        ru1_port,
        ru2_port,
        entries: vec![ru1, ru2],
    }
}

async fn start(dir: &Path, config: &Path, name: &str, port: u16) -> Process {
    let mut node = run_node(dir, config, name);
    node.wait_for_tcp(
        SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_secs(20),
    )
    .await
    .unwrap();
    node
}

/// A `kind` client for `link` once it gets a byte through to `echo` (the user's access
/// reaches each node within a moment of `user add`).
async fn client_through(kind: PeerKind, bin: &Path, link: &ClientLink, echo: &TcpEcho) -> Peer {
    let start = Instant::now();
    loop {
        let client = interop::client(kind, bin, link).await;
        if traffic::tcp_roundtrip(client.addr(), echo.addr(), b"hello")
            .await
            .is_ok()
        {
            return client;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{} never got through to port {}",
            kind.name(),
            link.port
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_reach_the_internet_through_an_entry_and_leave_from_its_exit() {
    let (Some(xray), Some(sing_box)) = (PeerKind::Xray.require(), PeerKind::SingBox.require())
    else {
        return;
    };
    let chain = start_chain().await;
    let home = &chain.home;
    home.add_user(USER, 30).unwrap();
    home.add_user(OTHER, 30).unwrap();

    // Links: one per node in the operator's order, named by location; an entry's shows its
    // own address and says where it exits.
    let printed = printed_links(home, USER);
    let ports: Vec<u16> = printed
        .iter()
        .map(|l| ClientLink::parse(l).unwrap().port)
        .collect();
    let node_ports = [chain.exit_port, chain.ru1_port, chain.ru2_port];
    assert_eq!(&ports[ports.len() - 3..], node_ports, "{printed:#?}");
    let ru1_line = &printed[printed.len() - 2];
    assert!(
        ru1_line.contains(&format!("@127.0.0.1:{}?", chain.ru1_port))
            && ru1_line.ends_with(&format!("#{MOSCOW_VIA_FRANKFURT}")),
        "{ru1_line}"
    );
    // The subscription lists the same links.
    let subscription = subscription_links(home, USER);
    assert!(
        node_ports.iter().all(|port| subscription
            .iter()
            .any(|l| l.contains(&format!("@127.0.0.1:{port}?")))),
        "{subscription:#?}"
    );
    assert!(subscription
        .iter()
        .any(|l| l.ends_with(MOSCOW_VIA_FRANKFURT)));

    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    // Xray-core through the exit itself, then through the REALITY entry.
    for port in [chain.exit_port, chain.ru1_port] {
        let link = link_to(home, USER, port);
        assert!(link.vision, "REALITY links ask for Vision");
        let client = client_through(PeerKind::Xray, &xray, &link, &echo).await;
        traffic::tcp_roundtrips(client.addr(), echo.addr(), 4, MIB)
            .await
            .unwrap_or_else(|e| panic!("xray via port {port}: {e}"));
        interop::udp_checks(PeerKind::Xray, &xray, &link).await;
    }
    // sing-box through the TLS entry: TCP with the half-close, UDP as XUDP and plain.
    let ru2 = link_to(home, USER, chain.ru2_port);
    let client = client_through(PeerKind::SingBox, &sing_box, &ru2, &echo).await;
    interop::tcp_checks(PeerKind::SingBox, client.addr()).await;
    interop::udp_checks(PeerKind::SingBox, &sing_box, &ru2).await;
    // New keys on the exit reach its entries without a word to them: the REALITY entry
    // carries its users through the rotated exit.
    home.run(&["node", "set", "eu-1", "keys=rotate"]).unwrap();
    let ru1 = link_to(home, USER, chain.ru1_port);
    remote::wait_for_log(&chain.exit, "new settings").await;
    remote::wait_for_log(&chain.entries[0], "new settings").await;
    let client = client_through(PeerKind::Xray, &xray, &ru1, &echo).await;
    traffic::tcp_roundtrips(client.addr(), echo.addr(), 2, MIB)
        .await
        .unwrap();

    // No hop wrote down a destination or a user.
    let uuid = testkit::user_uuid(&ru1);
    for node in chain.entries.iter().chain([&chain.exit]) {
        let log = node.log();
        for secret in [echo.addr().to_string(), uuid.clone()] {
            assert!(
                !log.contains(&secret),
                "{} logged {secret}:\n{log}",
                node.name()
            );
        }
    }

    // A new entry is let in by the exit in place: no listener restart beyond the rotation's,
    // and connections through the exit go on.
    let restarts = |log: String| log.matches("restarting the listener").count();
    assert_eq!(restarts(chain.exit.log()), 1, "{}", chain.exit.log());
    let ru3_port = free_port();
    remote::add_node(home, "ru-3", ru3_port, "🇷🇺 Kazan", &["--via", "eu-1"]);
    remote::wait_for_log(&chain.exit, "an exit for 3 entry node(s)").await;
    assert_eq!(restarts(chain.exit.log()), 1, "{}", chain.exit.log());
    let exit_link = link_to(home, USER, chain.exit_port);
    let through_exit = client_through(PeerKind::Xray, &xray, &exit_link, &echo).await;
    traffic::tcp_roundtrip(through_exit.addr(), echo.addr(), b"still here")
        .await
        .unwrap();

    // An entry connects nobody out itself: its users' loopback destinations are reached only
    // because the exit may reach them. With the exit gone, nothing gets through the entry.
    let mut exit = chain.exit;
    exit.terminate(Duration::from_secs(10)).await;
    assert!(
        traffic::tcp_roundtrip(client.addr(), echo.addr(), b"hello")
            .await
            .is_err(),
        "the entry carried a connection without its exit"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_ends_the_users_connections_through_every_node_and_the_chain_within_a_second() {
    let (Some(xray), Some(sing_box)) = (PeerKind::Xray.require(), PeerKind::SingBox.require())
    else {
        return;
    };
    let chain = start_chain().await;
    let home = &chain.home;
    home.add_user(USER, 30).unwrap();
    home.add_user(OTHER, 30).unwrap();
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();

    // The user holds a connection through the exit, the REALITY entry and the TLS entry;
    // another user holds one through the REALITY entry.
    let mut clients = Vec::new();
    for (kind, bin, port) in [
        (PeerKind::Xray, &xray, chain.exit_port),
        (PeerKind::Xray, &xray, chain.ru1_port),
        (PeerKind::SingBox, &sing_box, chain.ru2_port),
    ] {
        let link = link_to(home, USER, port);
        clients.push(client_through(kind, bin, &link, &echo).await);
    }
    let other_link = link_to(home, OTHER, chain.ru1_port);
    let other = client_through(PeerKind::Xray, &xray, &other_link, &echo).await;
    let mut open = Vec::new();
    for client in clients.iter().chain([&other]) {
        let mut conn = socks::connect(client.addr(), echo.addr()).await.unwrap();
        let alive = traffic::time_until_cut(
            &mut conn,
            Duration::from_millis(20),
            Duration::from_millis(300),
        )
        .await;
        assert!(matches!(alive, Err(TrafficError::NotCut(_))), "{alive:?}");
        open.push(conn);
    }
    let mut other_conn = open.pop().unwrap();

    tokio::task::block_in_place(|| home.run(&["user", "block", &USER.to_string()])).unwrap();
    // Each measured from the moment the store changed, all at once.
    let cuts: Vec<_> = open
        .into_iter()
        .map(|mut conn| {
            tokio::spawn(async move {
                traffic::time_until_cut(
                    &mut conn,
                    Duration::from_millis(20),
                    Duration::from_secs(5),
                )
                .await
            })
        })
        .collect();
    for (hop, cut) in ["exit", "REALITY entry", "TLS entry"].iter().zip(cuts) {
        let cut = cut
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("through the {hop}: {e:?}"));
        assert!(cut <= CUT_DEADLINE, "through the {hop}: cut after {cut:?}");
    }
    let alive = traffic::time_until_cut(
        &mut other_conn,
        Duration::from_millis(20),
        Duration::from_millis(300),
    )
    .await;
    assert!(
        matches!(alive, Err(TrafficError::NotCut(_))),
        "the other user was cut: {alive:?}"
    );
}

/// The `vless://` links of the user's subscription URL as apps fetch it (base64, one a line).
fn subscription_links(home: &MillyHome, telegram_id: i64) -> Vec<String> {
    let shown = home
        .run(&["user", "show", &telegram_id.to_string()])
        .unwrap();
    let url = shown
        .lines()
        .find_map(|l| l.strip_prefix("subscription: "))
        .unwrap_or_else(|| panic!("no subscription URL in:\n{shown}"));
    let path = &url[url.find("/sub/").expect("a /sub/ URL")..];
    let (status, body) = testkit::http::get(home.web_addr().port(), path.trim()).unwrap();
    assert_eq!(status, 200, "{body}");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .unwrap_or_else(|e| panic!("{e}: {body}"));
    String::from_utf8(decoded)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}
