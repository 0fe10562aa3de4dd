//! The testkit checked against itself without milly: sing-box runs as a VLESS+TLS server and the
//! sing-box and v2ray clients push byte-exact TCP and UDP through it to the echo servers. If
//! these pass, a failing milly interop test is milly's fault, not the harness's.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::path::Path;
use std::time::Duration;

use client::ClientLink;
use testkit::interop::{self, STRANGER};
use testkit::singbox;
use testkit::traffic::{self, TrafficError};
use testkit::{free_tcp_addr, with_user, EchoMode, Peer, PeerKind, TcpEcho};

const USER: &str = "b831381d-6324-4d53-ad4f-8cda48b30811";

/// A sing-box VLESS+TLS server with one user and a self-signed certificate, and the link a
/// user would be given for it.
struct Reference {
    link: ClientLink,
    server: Option<Peer>,
    _dir: tempfile::TempDir,
}

async fn reference_server(sing_box: &Path) -> Reference {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = testkit::tls::write_self_signed(dir.path(), &["localhost"]).unwrap();
    let listen = free_tcp_addr();
    let config = singbox::server_config(listen, &[USER], &cert, &key);
    let server = Peer::start(PeerKind::SingBox, sing_box, &config, listen)
        .await
        .unwrap();
    let link = ClientLink::parse(&format!(
        "vless://{USER}@127.0.0.1:{}?encryption=none&type=tcp&security=tls&sni=localhost&fp=chrome&allowInsecure=1#reference",
        listen.port()
    ))
    .unwrap();
    Reference {
        link,
        server: Some(server),
        _dir: dir,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sing_box_client_moves_tcp_byte_exact_both_ways_through_a_sing_box_server() {
    let Some(bin) = PeerKind::SingBox.require() else {
        return;
    };
    let server = reference_server(&bin).await;
    let client = interop::client(PeerKind::SingBox, &bin, &server.link).await;
    interop::tcp_checks(PeerKind::SingBox, client.addr()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sing_box_client_moves_udp_datagrams_as_xudp_and_as_plain_vless_udp() {
    let Some(bin) = PeerKind::SingBox.require() else {
        return;
    };
    let server = reference_server(&bin).await;
    interop::udp_checks(PeerKind::SingBox, &bin, &server.link).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v2ray_client_moves_tcp_byte_exact_both_ways_through_a_sing_box_server() {
    let Some(sing_box) = PeerKind::SingBox.require() else {
        return;
    };
    let Some(v2ray) = PeerKind::V2Ray.require() else {
        return;
    };
    let server = reference_server(&sing_box).await;
    let client = interop::client(PeerKind::V2Ray, &v2ray, &server.link).await;
    interop::tcp_checks(PeerKind::V2Ray, client.addr()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v2ray_client_moves_udp_datagrams_through_a_sing_box_server() {
    let Some(sing_box) = PeerKind::SingBox.require() else {
        return;
    };
    let Some(v2ray) = PeerKind::V2Ray.require() else {
        return;
    };
    let server = reference_server(&sing_box).await;
    interop::udp_checks(PeerKind::V2Ray, &v2ray, &server.link).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_with_an_unknown_user_id_reach_nothing() {
    let Some(sing_box) = PeerKind::SingBox.require() else {
        return;
    };
    let Some(v2ray) = PeerKind::V2Ray.require() else {
        return;
    };
    let server = reference_server(&sing_box).await;
    let stranger = with_user(&server.link, STRANGER);
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let clients = [
        interop::client(PeerKind::SingBox, &sing_box, &stranger).await,
        interop::client(PeerKind::V2Ray, &v2ray, &stranger).await,
    ];
    for client in &clients {
        let result = traffic::tcp_roundtrip(client.addr(), echo.addr(), b"hello?").await;
        assert!(
            matches!(
                result,
                Err(TrafficError::Mismatch { received: 0, .. })
                    | Err(TrafficError::Socks(_))
                    | Err(TrafficError::Io(_))
            ),
            "{result:?}"
        );
    }
    assert_eq!(echo.accepted(), 0, "the server proxied an unknown user");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_cut_by_the_server_is_seen_by_the_client_side() {
    // The cut-within-a-second check in the milly tests rests on time_until_cut noticing a cut
    // promptly; here the server itself goes away mid-connection.
    let Some(bin) = PeerKind::SingBox.require() else {
        return;
    };
    let mut server = reference_server(&bin).await;
    let client = interop::client(PeerKind::SingBox, &bin, &server.link).await;
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let mut stream = testkit::socks::connect(client.addr(), echo.addr())
        .await
        .unwrap();
    let interval = Duration::from_millis(50);
    assert!(matches!(
        traffic::time_until_cut(&mut stream, interval, Duration::from_millis(500)).await,
        Err(TrafficError::NotCut(_))
    ));
    drop(server.server.take());
    let cut = traffic::time_until_cut(&mut stream, interval, Duration::from_secs(5))
        .await
        .unwrap();
    assert!(cut < Duration::from_secs(1), "noticed after {cut:?}");
}
