//! v2ray 4.34, the engine of older v2rayN/v2rayNG builds, against a real `milly serve`: a user
//! imports the `vless://` link milly printed and sends TCP and plain VLESS UDP through the node;
//! a stranger reaches nothing; a blocked user is cut within a second.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use testkit::interop::{self, STRANGER};
use testkit::{with_user, EchoMode, PeerKind, TcpEcho};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_moves_tcp_byte_exact_both_ways_over_concurrent_connections() {
    let Some((bin, node)) = interop::peer_and_node(PeerKind::V2Ray).await else {
        return;
    };
    let link = node.add_user(2001).await.unwrap();
    let client = interop::client(PeerKind::V2Ray, &bin, &link).await;
    // v2ray may drop the half-close; whatever does come back must be exact.
    let echo = interop::tcp_checks(PeerKind::V2Ray, client.addr()).await;
    node.assert_no_connection_details(&link, &echo);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_sends_udp_datagrams_as_plain_vless_udp() {
    let Some((bin, node)) = interop::peer_and_node(PeerKind::V2Ray).await else {
        return;
    };
    let link = node.add_user(2002).await.unwrap();
    interop::udp_checks(PeerKind::V2Ray, &bin, &link).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_reaches_nothing() {
    let Some((bin, node)) = interop::peer_and_node(PeerKind::V2Ray).await else {
        return;
    };
    let link = node.add_user(2003).await.unwrap();
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let stranger = interop::client(PeerKind::V2Ray, &bin, &with_user(&link, STRANGER)).await;
    interop::stranger_reaches_nothing(&stranger, &echo).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_blocked_mid_connection_is_cut_within_a_second_and_others_keep_theirs() {
    let Some((bin, node)) = interop::peer_and_node(PeerKind::V2Ray).await else {
        return;
    };
    interop::blocked_user_is_cut(&node, PeerKind::V2Ray, &bin, (2004, 2005)).await;
}
