//! v2ray 4.34, the engine of older v2rayN/v2rayNG builds, against a real `milly serve`: a user
//! imports the `vless://` link milly printed and sends TCP and plain VLESS UDP through the node;
//! a stranger reaches nothing; a blocked user is cut within a second.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::time::Duration;

use testkit::singbox::ClientOptions;
use testkit::traffic::{self, TrafficError};
use testkit::{
    socks, wait_admitted, EchoMode, MillyHome, Peer, PeerKind, Process, TcpEcho, UdpEcho, VlessLink,
};

const MIB: usize = 1024 * 1024;
/// A user id no one was given.
const STRANGER: &str = "0e0e0e0e-0000-4000-8000-0e0e0e0e0e0e";
/// The issue allows 1 s from the store change; the rest is the client noticing the cut.
const CUT_DEADLINE: Duration = Duration::from_millis(1500);
/// A new user must be able to connect this soon after `milly user add` returns.
const ADMIT_DEADLINE: Duration = Duration::from_secs(1);

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

async fn v2ray(bin: &Path, link: &VlessLink) -> Peer {
    Peer::client(PeerKind::V2Ray, bin, link, &ClientOptions::default())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_moves_tcp_byte_exact_both_ways_over_concurrent_connections() {
    let Some(bin) = PeerKind::V2Ray.require() else {
        return;
    };
    let node = milly_node().await;
    let link = node.add_user(2001).await;
    let client = v2ray(&bin, &link).await;

    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    traffic::tcp_roundtrips(client.addr(), echo.addr(), 4, MIB)
        .await
        .unwrap();
    assert_eq!(echo.accepted(), 4);
    // v2ray may drop the half-close; whatever does come back must be exact.
    let after_eof = TcpEcho::start(EchoMode::AfterEof).await.unwrap();
    traffic::tcp_roundtrip_after_eof(PeerKind::V2Ray, client.addr(), after_eof.addr(), 256 * 1024)
        .await
        .unwrap();

    let log = node.serve.log();
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
async fn a_user_sends_udp_datagrams_as_plain_vless_udp() {
    let Some(bin) = PeerKind::V2Ray.require() else {
        return;
    };
    let node = milly_node().await;
    let link = node.add_user(2002).await;
    let client = v2ray(&bin, &link).await;
    let echo = UdpEcho::start().await.unwrap();
    let sizes = traffic::udp_sizes_for(PeerKind::V2Ray);
    traffic::udp_roundtrips(client.addr(), echo.addr(), &sizes)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_reaches_nothing() {
    let Some(bin) = PeerKind::V2Ray.require() else {
        return;
    };
    let node = milly_node().await;
    let link = node.add_user(2003).await;
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let stranger = v2ray(&bin, &link.with_user_id(STRANGER)).await;
    let result = traffic::tcp_roundtrip(stranger.addr(), echo.addr(), b"let me in").await;
    assert!(result.is_err(), "a stranger was proxied");
    assert_eq!(echo.accepted(), 0, "a stranger reached the destination");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_blocked_mid_connection_is_cut_within_a_second_and_others_keep_theirs() {
    let Some(bin) = PeerKind::V2Ray.require() else {
        return;
    };
    let node = milly_node().await;
    let blocked = v2ray(&bin, &node.add_user(2004).await).await;
    let other = v2ray(&bin, &node.add_user(2005).await).await;
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let mut blocked_conn = socks::connect(blocked.addr(), echo.addr()).await.unwrap();
    let mut other_conn = socks::connect(other.addr(), echo.addr()).await.unwrap();
    let ping = Duration::from_millis(20);
    for conn in [&mut blocked_conn, &mut other_conn] {
        let alive = traffic::time_until_cut(conn, ping, Duration::from_millis(300)).await;
        assert!(matches!(alive, Err(TrafficError::NotCut(_))), "{alive:?}");
    }

    tokio::task::block_in_place(|| node.home.run(&["user", "block", "2004"]).unwrap());
    // time_until_cut starts counting now: the store has changed once the command returned.
    let cut = traffic::time_until_cut(&mut blocked_conn, ping, Duration::from_secs(5))
        .await
        .unwrap();
    eprintln!("blocked user's connection cut {cut:?} after `milly user block` returned");
    assert!(cut <= CUT_DEADLINE, "cut after {cut:?}");

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
