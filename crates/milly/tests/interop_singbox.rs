//! sing-box, the engine inside Hiddify and other apps, against a real `milly serve`: a user
//! imports the `vless://` link milly printed and sends TCP and UDP through the node; a stranger
//! and a scanner get the website; a blocked user is cut within a second.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::time::Duration;

use testkit::interop::{self, STRANGER};
use testkit::{probe, with_user, EchoMode, PeerKind, TcpEcho};

const PROBE_WAIT: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_moves_tcp_byte_exact_both_ways_over_concurrent_connections() {
    let Some((bin, node)) = interop::peer_and_node(PeerKind::SingBox).await else {
        return;
    };
    let link = node.add_user(1001).await.unwrap();
    let client = interop::client(PeerKind::SingBox, &bin, &link).await;
    // The half-close check: the node must carry the user's EOF and keep the way back open.
    let echo = interop::tcp_checks(PeerKind::SingBox, client.addr()).await;
    node.assert_no_connection_details(&link, &echo);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_sends_udp_datagrams_as_xudp_and_as_plain_vless_udp() {
    let Some((bin, node)) = interop::peer_and_node(PeerKind::SingBox).await else {
        return;
    };
    let link = node.add_user(1002).await.unwrap();
    interop::udp_checks(PeerKind::SingBox, &bin, &link).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_and_a_scanner_get_the_website_not_a_proxy() {
    let Some((bin, node)) = interop::peer_and_node(PeerKind::SingBox).await else {
        return;
    };
    let link = node.add_user(1003).await.unwrap();
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();

    // An app with an id milly never issued reaches nothing.
    let stranger = interop::client(PeerKind::SingBox, &bin, &with_user(&link, STRANGER)).await;
    interop::stranger_reaches_nothing(&stranger, &echo).await;

    // A scanner speaking HTTPS sees the website's home page.
    let get = b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    let web = probe::tcp(node.home.web_addr(), get, PROBE_WAIT)
        .await
        .unwrap();
    let via_node = probe::tls(node.home.node_addr(), &link.server_name, get, PROBE_WAIT)
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
    let stranger_id = with_user(&link, STRANGER).user_id;
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
        &link.server_name,
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
    let Some((bin, node)) = interop::peer_and_node(PeerKind::SingBox).await else {
        return;
    };
    interop::blocked_user_is_cut(&node, PeerKind::SingBox, &bin, (1004, 1005)).await;
}
