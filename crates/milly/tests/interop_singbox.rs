//! sing-box, the engine inside Hiddify and other apps, against a real `milly serve`: a user
//! imports the `vless://` link milly printed and sends TCP and UDP through the node; a stranger
//! and a scanner get the website; a blocked user is cut within a second.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::time::Duration;

use testkit::singbox::{ClientOptions, PacketEncoding};
use testkit::traffic::{self, TrafficError};
use testkit::{probe, socks};
use testkit::{
    wait_admitted, EchoMode, MillyHome, Peer, PeerKind, Process, TcpEcho, UdpEcho, VlessLink,
};

const MIB: usize = 1024 * 1024;
/// A user id no one was given.
const STRANGER: &str = "0e0e0e0e-0000-4000-8000-0e0e0e0e0e0e";
/// The issue allows 1 s from the store change; the rest is the client noticing the cut.
const CUT_DEADLINE: Duration = Duration::from_millis(1500);
/// A new user must be able to connect this soon after `milly user add` returns.
const ADMIT_DEADLINE: Duration = Duration::from_secs(1);
const PROBE_WAIT: Duration = Duration::from_secs(5);

fn milly_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_milly"))
}

/// A milly installation running `milly serve`.
struct Node {
    home: MillyHome,
    serve: Process,
}

async fn milly_node() -> Node {
    let home = MillyHome::new(&milly_bin(), "").unwrap();
    let serve = home.serve().await.unwrap();
    Node { home, serve }
}

impl Node {
    /// `milly user add` for `telegram_id`, then waits for the node to learn of the user through
    /// its access feed (no restart), which must take well under a second.
    async fn add_user(&self, telegram_id: i64) -> VlessLink {
        let link = self.home.add_user(telegram_id, 30).unwrap();
        let took = wait_admitted(self.home.node_addr(), &link, ADMIT_DEADLINE)
            .await
            .unwrap();
        assert!(took < ADMIT_DEADLINE, "admitted after {took:?}");
        link
    }
}

async fn sing_box(bin: &Path, link: &VlessLink, packet_encoding: PacketEncoding) -> Peer {
    let options = ClientOptions {
        packet_encoding,
        ..Default::default()
    };
    Peer::client(PeerKind::SingBox, bin, link, &options)
        .await
        .unwrap()
}

/// What a node must never write down about a connection.
fn assert_no_connection_details(serve: &Process, link: &VlessLink, echo: &TcpEcho) {
    let log = serve.log();
    assert!(
        !log.contains(&link.user_id),
        "milly's output names a user id"
    );
    assert!(
        !log.contains(&echo.addr().to_string()),
        "milly's output names a destination"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_moves_tcp_byte_exact_both_ways_over_concurrent_connections() {
    let Some(bin) = PeerKind::SingBox.require() else {
        return;
    };
    let node = milly_node().await;
    let link = node.add_user(1001).await;
    let client = sing_box(&bin, &link, PacketEncoding::Xudp).await;

    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    traffic::tcp_roundtrips(client.addr(), echo.addr(), 4, MIB)
        .await
        .unwrap();
    assert_eq!(echo.accepted(), 4);

    // The echo answers only after the user's EOF: the node must carry the half-close and keep
    // the way back open.
    let after_eof = TcpEcho::start(EchoMode::AfterEof).await.unwrap();
    traffic::tcp_roundtrip_after_eof(
        PeerKind::SingBox,
        client.addr(),
        after_eof.addr(),
        256 * 1024,
    )
    .await
    .unwrap();

    assert_no_connection_details(&node.serve, &link, &echo);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_sends_udp_datagrams_as_xudp_and_as_plain_vless_udp() {
    let Some(bin) = PeerKind::SingBox.require() else {
        return;
    };
    let node = milly_node().await;
    let link = node.add_user(1002).await;
    let echo = UdpEcho::start().await.unwrap();
    for encoding in [PacketEncoding::Xudp, PacketEncoding::Plain] {
        let client = sing_box(&bin, &link, encoding).await;
        traffic::udp_roundtrips(client.addr(), echo.addr(), traffic::UDP_SIZES)
            .await
            .unwrap_or_else(|e| panic!("{encoding:?}: {e}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_and_a_scanner_get_the_website_not_a_proxy() {
    let Some(bin) = PeerKind::SingBox.require() else {
        return;
    };
    let node = milly_node().await;
    let link = node.add_user(1003).await;
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();

    // An app with an id milly never issued reaches nothing.
    let stranger = sing_box(&bin, &link.with_user_id(STRANGER), PacketEncoding::Xudp).await;
    let result = traffic::tcp_roundtrip(stranger.addr(), echo.addr(), b"let me in").await;
    assert!(result.is_err(), "a stranger was proxied");
    assert_eq!(echo.accepted(), 0, "a stranger reached the destination");

    // A scanner speaking HTTPS sees the website's home page.
    let get = b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    let web = probe::tcp(node.home.web_addr(), get, PROBE_WAIT)
        .await
        .unwrap();
    let via_node = probe::tls(node.home.node_addr(), link.server_name(), get, PROBE_WAIT)
        .await
        .unwrap();
    assert_eq!(
        probe::status_line(&via_node).as_deref(),
        Some("HTTP/1.1 200 OK")
    );
    let title = |r: &[u8]| {
        let body = probe::body(r);
        let start = body.find("<title>")?;
        let end = body[start..].find("</title>")?;
        Some(body[start..start + end].to_owned())
    };
    assert!(title(&via_node).is_some(), "not a page");
    assert_eq!(title(&via_node), title(&web), "not the website's page");

    // A VLESS request with the stranger's id is handed to the website byte for byte, so the
    // answer is whatever the website says to those bytes.
    let stranger_id = testkit::link::uuid_bytes(STRANGER).unwrap();
    let target = match echo.addr() {
        std::net::SocketAddr::V4(a) => a,
        other => panic!("echo on {other}"),
    };
    let mut request = probe::vless_tcp_request(&stranger_id, target);
    request.extend_from_slice(get);
    let direct = probe::tcp(node.home.web_addr(), &request, PROBE_WAIT)
        .await
        .unwrap();
    let via_node = probe::tls(
        node.home.node_addr(),
        link.server_name(),
        &request,
        PROBE_WAIT,
    )
    .await
    .unwrap();
    assert!(
        probe::status_line(&direct).is_some(),
        "the website did not answer HTTP"
    );
    assert_eq!(probe::status_line(&via_node), probe::status_line(&direct));
    assert_eq!(echo.accepted(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_blocked_mid_connection_is_cut_within_a_second_and_others_keep_theirs() {
    let Some(bin) = PeerKind::SingBox.require() else {
        return;
    };
    let node = milly_node().await;
    let blocked_link = node.add_user(1004).await;
    let other_link = node.add_user(1005).await;
    let blocked = sing_box(&bin, &blocked_link, PacketEncoding::Xudp).await;
    let other = sing_box(&bin, &other_link, PacketEncoding::Xudp).await;
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let mut blocked_conn = socks::connect(blocked.addr(), echo.addr()).await.unwrap();
    let mut other_conn = socks::connect(other.addr(), echo.addr()).await.unwrap();
    let ping = Duration::from_millis(20);
    for conn in [&mut blocked_conn, &mut other_conn] {
        let alive = traffic::time_until_cut(conn, ping, Duration::from_millis(300)).await;
        assert!(matches!(alive, Err(TrafficError::NotCut(_))), "{alive:?}");
    }

    tokio::task::block_in_place(|| node.home.run(&["user", "block", "1004"]).unwrap());
    // time_until_cut starts counting now: the store has changed once the command returned.
    let cut = traffic::time_until_cut(&mut blocked_conn, ping, Duration::from_secs(5))
        .await
        .unwrap();
    eprintln!("blocked user's connection cut {cut:?} after `milly user block` returned");
    assert!(cut <= CUT_DEADLINE, "cut after {cut:?}");

    // Everyone else keeps their session; the blocked user cannot open a new one.
    let still = traffic::time_until_cut(&mut other_conn, ping, Duration::from_millis(500)).await;
    assert!(matches!(still, Err(TrafficError::NotCut(_))), "{still:?}");
    let accepted = echo.accepted();
    assert!(
        traffic::tcp_roundtrip(blocked.addr(), echo.addr(), b"again?")
            .await
            .is_err()
    );
    assert_eq!(
        echo.accepted(),
        accepted,
        "a blocked user reached the destination"
    );
}
