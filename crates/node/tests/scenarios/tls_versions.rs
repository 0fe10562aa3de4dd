//! Every TLS client the node may meet carries VLESS through it: TLS 1.3 with each of its three
//! cipher suites (the handshake is rustls's, the records the node's own layer), a resumed
//! TLS 1.3 session, and TLS 1.2 (rustls's stream, as before).

use std::sync::Arc;

use rustls::crypto::ring::cipher_suite as suite;
use rustls::version::{TLS12, TLS13};
use testkit::{EchoMode, TcpEcho};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use vless::Command;

use crate::harness::{request, user, Options, TestNode};
use crate::pattern;

/// Sends a request and 256 KiB to the echo server through the node; reads it all back.
async fn echo_through(mut stream: TlsStream<TcpStream>, echo: &TcpEcho) -> TlsStream<TcpStream> {
    let payload = pattern(256 * 1024, 5);
    let mut out = Vec::new();
    vless::encode_request(&request(user(1), Command::Tcp, echo.addr()), &mut out);
    stream.write_all(&out).await.unwrap();
    let (mut r, mut w) = tokio::io::split(stream);
    let sent = payload.clone();
    let writer = async move {
        w.write_all(&sent).await.unwrap();
        w.flush().await.unwrap();
        w
    };
    let reader = async move {
        let mut header = [0u8; 2];
        r.read_exact(&mut header).await.unwrap();
        assert_eq!(header, [0, 0], "the VLESS response header");
        let mut back = vec![0u8; 256 * 1024];
        r.read_exact(&mut back).await.unwrap();
        (r, back)
    };
    let (w, (r, back)) = tokio::join!(writer, reader);
    assert!(back == payload, "the echo differs from what was sent");
    r.unsplit(w)
}

#[tokio::test]
async fn tls13_with_each_cipher_suite_carries_vless() {
    let node = TestNode::start(Options::default()).await;
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    for wanted in [
        suite::TLS13_AES_128_GCM_SHA256,
        suite::TLS13_AES_256_GCM_SHA384,
        suite::TLS13_CHACHA20_POLY1305_SHA256,
    ] {
        let client = node.client_config(&[&TLS13], &[wanted]);
        let stream = node.tls_with(client).await;
        assert_eq!(
            stream
                .get_ref()
                .1
                .negotiated_cipher_suite()
                .map(|s| s.suite()),
            Some(wanted.suite())
        );
        let mut stream = echo_through(stream, &echo).await;
        stream.shutdown().await.unwrap();
    }
    node.stop().await;
}

#[tokio::test]
async fn a_resumed_tls13_session_carries_vless() {
    let node = TestNode::start(Options::default()).await;
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let client: Arc<rustls::ClientConfig> =
        node.client_config(&[&TLS13], &[suite::TLS13_AES_128_GCM_SHA256]);
    // The first connection leaves a ticket once data has flowed; the second uses it.
    let first = echo_through(node.tls_with(client.clone()).await, &echo).await;
    drop(first);
    let second = node.tls_with(client).await;
    assert_eq!(
        second.get_ref().1.handshake_kind(),
        Some(rustls::HandshakeKind::Resumed),
        "the node's session ticket was not used"
    );
    echo_through(second, &echo).await;
    node.stop().await;
}

#[tokio::test]
async fn tls12_clients_still_carry_vless() {
    let node = TestNode::start(Options::default()).await;
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    // The node's self-signed certificate has an ECDSA key.
    for wanted in [
        suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ] {
        let client = node.client_config(&[&TLS12], &[wanted]);
        let stream = node.tls_with(client).await;
        assert_eq!(
            stream.get_ref().1.protocol_version(),
            Some(rustls::ProtocolVersion::TLSv1_2)
        );
        echo_through(stream, &echo).await;
    }
    node.stop().await;
}
