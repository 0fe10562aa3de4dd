//! `[node.http] listen`: the HTTP transports in plain HTTP/1.1 behind a reverse proxy; anything
//! else is a 404, and per-source budgets count the client a trusted proxy names.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use client_identity::{ClientIdentity, ForwardedHeader};
use node::{AccessTable, AccessUpdate, HttpTransports, Metrics, Node, NodeConfig, PlainHttp};
use testkit::{EchoMode, TcpEcho};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use vless::Command;

use crate::harness::{forever, request, user};

struct PlainNode {
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
}

impl Drop for PlainNode {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn start(identity: ClientIdentity, max_handshakes_per_source: usize) -> PlainNode {
    let tls_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let plain = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = plain.local_addr().unwrap();
    let (cert, key) = node::generate_self_signed(&["localhost".into()]).unwrap();
    let mut config = NodeConfig::new(
        tls_listener.local_addr().unwrap(),
        node::TlsSource::Pem { cert, key },
        // No website behind the plain port: nothing may reach this.
        "127.0.0.1:9".parse().unwrap(),
    );
    config.allow_private_destinations = true;
    config.max_handshakes_per_source = max_handshakes_per_source;
    config.http = HttpTransports {
        ws: Some("/s3cret/ws".into()),
        httpupgrade: Some("/s3cret/up".into()),
        ..crate::xhttp::transports()
    };
    let access = AccessTable::new();
    access.apply(AccessUpdate::Snapshot {
        revision: 1,
        entries: vec![forever(user(1))],
    });
    let node = Node::new(config, access).unwrap();
    let metrics = node.metrics();
    let shutdown = CancellationToken::new();
    let plain = PlainHttp {
        listener: plain,
        identity,
    };
    tokio::spawn(node.run_with(tls_listener, Some(plain), shutdown.clone()));
    PlainNode {
        addr,
        metrics,
        shutdown,
    }
}

fn behind_loopback() -> ClientIdentity {
    ClientIdentity::new(
        vec!["127.0.0.1".parse().unwrap()],
        ForwardedHeader::default(),
    )
}

/// An HTTPUpgrade request as a proxy forwards it, naming `client` when given.
fn upgrade(path: &str, client: Option<&str>) -> Vec<u8> {
    let forwarded = client
        .map(|c| format!("X-Forwarded-For: {c}\r\n"))
        .unwrap_or_default();
    format!("GET {path} HTTP/1.1\r\nHost: vpn.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n{forwarded}\r\n").into_bytes()
}

/// Reads the answer's head; `None` when the connection closed without one.
async fn answer(stream: &mut TcpStream) -> Option<String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .expect("an answer or a close")
            .unwrap_or(0);
        if n == 0 {
            return None;
        }
        got.extend_from_slice(&buf[..n]);
    }
    Some(String::from_utf8_lossy(&got).into_owned())
}

#[tokio::test]
async fn an_httpupgrade_carries_vless_and_any_other_request_gets_a_404() {
    let node = start(behind_loopback(), 32).await;
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let mut stream = TcpStream::connect(node.addr).await.unwrap();
    stream
        .write_all(&upgrade("/s3cret/up", Some("192.0.2.1")))
        .await
        .unwrap();
    let head = answer(&mut stream).await.unwrap();
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    let mut out = Vec::new();
    vless::encode_request(&request(user(1), Command::Tcp, echo.addr()), &mut out);
    out.extend_from_slice(b"through the proxy");
    stream.write_all(&out).await.unwrap();
    let mut back = [0u8; 2 + 17];
    stream.read_exact(&mut back).await.unwrap();
    assert_eq!(&back[..2], [0, 0]);
    assert_eq!(&back[2..], b"through the proxy");

    for request in [
        upgrade("/s3cret/upx", None),
        upgrade("/", Some("192.0.2.1")),
        b"GET /s3cret/up HTTP/1.1\r\nHost: vpn.example\r\n\r\n".to_vec(),
        b"\x16\x03\x01 not http at all\r\n\r\n".to_vec(),
    ] {
        let mut other = TcpStream::connect(node.addr).await.unwrap();
        other.write_all(&request).await.unwrap();
        let head = answer(&mut other).await.unwrap();
        assert!(head.starts_with("HTTP/1.1 404 "), "{head}");
        let mut rest = Vec::new();
        other.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty(), "closed after the 404");
    }
}

#[tokio::test]
async fn handshakes_are_counted_per_client_a_trusted_proxy_names_and_per_peer_otherwise() {
    // Trusted: two clients behind the same proxy each get their own handshake budget of one.
    let node = start(behind_loopback(), 1).await;
    let mut held = TcpStream::connect(node.addr).await.unwrap();
    held.write_all(&upgrade("/s3cret/up", Some("192.0.2.1")))
        .await
        .unwrap();
    assert!(answer(&mut held)
        .await
        .unwrap()
        .starts_with("HTTP/1.1 101 "));
    let mut same = TcpStream::connect(node.addr).await.unwrap();
    same.write_all(&upgrade("/s3cret/up", Some("192.0.2.1")))
        .await
        .unwrap();
    assert_eq!(
        answer(&mut same).await,
        None,
        "the same client's second is refused"
    );
    let mut other = TcpStream::connect(node.addr).await.unwrap();
    other
        .write_all(&upgrade("/s3cret/up", Some("198.51.100.2")))
        .await
        .unwrap();
    assert!(answer(&mut other)
        .await
        .unwrap()
        .starts_with("HTTP/1.1 101 "));
    assert_eq!(
        node.metrics
            .snapshot()
            .refusals(node::BudgetRefusal::SourceHandshakes),
        1
    );
    drop((held, other));

    // Untrusted: the header is ignored, every connection is the peer's.
    let node = start(ClientIdentity::direct(), 1).await;
    let mut held = TcpStream::connect(node.addr).await.unwrap();
    held.write_all(&upgrade("/s3cret/up", Some("192.0.2.1")))
        .await
        .unwrap();
    assert!(answer(&mut held)
        .await
        .unwrap()
        .starts_with("HTTP/1.1 101 "));
    let mut spoofed = TcpStream::connect(node.addr).await.unwrap();
    let _ = spoofed
        .write_all(&upgrade("/s3cret/up", Some("198.51.100.2")))
        .await;
    assert_eq!(
        answer(&mut spoofed).await,
        None,
        "a forged header buys nothing"
    );
    drop(held);
}

#[tokio::test]
async fn xray_reaches_the_plain_listener_over_xhttp_in_http1_and_grpc_in_h2c() {
    let Some(xray) = testkit::PeerKind::Xray.require() else {
        return;
    };
    let node = start(ClientIdentity::direct(), 32).await;
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    for (network, mode) in [
        ("xhttp", "packet-up"),
        ("xhttp", "stream-one"),
        ("grpc", ""),
    ] {
        let socks = testkit::free_tcp_addr();
        let config = crate::xhttp::xray_client(node.addr, None, socks, network, mode);
        let client = testkit::Peer::start(testkit::PeerKind::Xray, &xray, &config, socks)
            .await
            .unwrap();
        assert!(
            crate::xhttp::three_echoed_flows(socks, echo.addr()).await,
            "{network} {mode}: other bytes came back\n{}",
            client.log()
        );
    }
}
