//! What one user or one address can no longer do to everyone else: open Mux sessions without
//! end, reuse live session ids for more sockets, spend every outbound socket, or hold every
//! handshake slot. Each refusal leaves the connection and the other users going.

use std::net::SocketAddr;
use std::time::Duration;

use node::BudgetRefusal;
use testkit::{EchoMode, TcpEcho};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use vless::mux::{Network, Status, Target};
use vless::Command;

use crate::harness::wire::{destination, mux_frame};
use crate::harness::{expect_response, mux_connection, user, FrameReader, Options, TestNode};

fn new_tcp(id: u16, to: SocketAddr, data: &[u8]) -> Vec<u8> {
    let target = Target {
        network: Network::Tcp,
        destination: destination(to),
    };
    let status = Status::New {
        target,
        global_id: None,
    };
    mux_frame(id, status, Some(data))
}

async fn send(stream: &mut TlsStream<TcpStream>, bytes: &[u8]) {
    stream.write_all(bytes).await.unwrap();
    stream.flush().await.unwrap();
}

/// Reads frames until session `id` echoes `expected` back.
async fn echoed(
    stream: &mut TlsStream<TcpStream>,
    reader: &mut FrameReader,
    id: u16,
    expected: &[u8],
) {
    loop {
        let frame = reader.next(stream).await;
        if frame.session_id == id {
            assert_eq!(
                frame.status,
                Status::Keep { udp_peer: None },
                "session {id}"
            );
            assert_eq!(frame.data.as_deref(), Some(expected));
            return;
        }
    }
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..200 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{what} did not happen in time");
}

#[tokio::test]
async fn a_mux_session_beyond_the_cap_gets_end_and_the_live_ones_go_on() {
    let node = TestNode::start(Options {
        max_mux_sessions: 2,
        ..Options::default()
    })
    .await;
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let mut stream = mux_connection(&node, user(1)).await;
    let mut reader = FrameReader::default();
    send(&mut stream, &new_tcp(1, echo.addr(), b"one")).await;
    echoed(&mut stream, &mut reader, 1, b"one").await;
    send(&mut stream, &new_tcp(2, echo.addr(), b"two")).await;
    echoed(&mut stream, &mut reader, 2, b"two").await;
    send(&mut stream, &new_tcp(3, echo.addr(), b"three")).await;
    let refused = reader.next(&mut stream).await;
    assert_eq!((refused.session_id, refused.status), (3, Status::End));
    assert_eq!(
        node.metrics.snapshot().refusals(BudgetRefusal::MuxSessions),
        1
    );
    assert_eq!(echo.accepted(), 2, "the refused session opened no socket");
    let keep = mux_frame(1, Status::Keep { udp_peer: None }, Some(b"still"));
    send(&mut stream, &keep).await;
    echoed(&mut stream, &mut reader, 1, b"still").await;
    // Ending a session frees its slot for a new one.
    send(&mut stream, &mux_frame(2, Status::End, None)).await;
    send(&mut stream, &new_tcp(4, echo.addr(), b"four")).await;
    echoed(&mut stream, &mut reader, 4, b"four").await;
    node.stop().await;
}

#[tokio::test]
async fn a_new_frame_for_a_live_session_id_opens_no_second_socket() {
    let node = TestNode::start(Options::default()).await;
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let mut stream = mux_connection(&node, user(1)).await;
    let mut reader = FrameReader::default();
    send(&mut stream, &new_tcp(7, echo.addr(), b"first")).await;
    echoed(&mut stream, &mut reader, 7, b"first").await;
    for _ in 0..50 {
        send(&mut stream, &new_tcp(7, echo.addr(), b"again")).await;
    }
    let metrics = node.metrics.clone();
    eventually("50 refusals", || {
        metrics.snapshot().refusals(BudgetRefusal::MuxSessionReused) == 50
    })
    .await;
    assert_eq!(echo.accepted(), 1);
    let keep = mux_frame(7, Status::Keep { udp_peer: None }, Some(b"same"));
    send(&mut stream, &keep).await;
    echoed(&mut stream, &mut reader, 7, b"same").await;
    node.stop().await;
}

#[tokio::test]
async fn a_user_out_of_sockets_is_refused_across_connections_while_others_go_on() {
    let node = TestNode::start(Options {
        max_sockets_per_user: 2,
        ..Options::default()
    })
    .await;
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let mut first = mux_connection(&node, user(1)).await;
    let mut reader = FrameReader::default();
    send(&mut first, &new_tcp(1, echo.addr(), b"a")).await;
    echoed(&mut first, &mut reader, 1, b"a").await;
    let mut second = mux_connection(&node, user(1)).await;
    let mut reader2 = FrameReader::default();
    send(&mut second, &new_tcp(1, echo.addr(), b"b")).await;
    echoed(&mut second, &mut reader2, 1, b"b").await;
    // The third socket of user 1, on either connection, is refused.
    send(&mut second, &new_tcp(2, echo.addr(), b"c")).await;
    let refused = reader2.next(&mut second).await;
    assert_eq!((refused.session_id, refused.status), (2, Status::End));
    let mut plain = node.vless(user(1), Command::Tcp, echo.addr(), b"d").await;
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), plain.read_to_end(&mut got)).await;
    assert!(got.is_empty(), "a refused TCP request gets no response");
    assert_eq!(
        node.metrics.snapshot().refusals(BudgetRefusal::UserSockets),
        2
    );
    // User 2 has their own budget.
    let mut other = node
        .vless(user(2), Command::Tcp, echo.addr(), b"hello")
        .await;
    expect_response(&mut other).await;
    let mut back = [0u8; 5];
    other.read_exact(&mut back).await.unwrap();
    assert_eq!(&back, b"hello");
    // User 1's sessions on the first connection go on.
    let keep = mux_frame(1, Status::Keep { udp_peer: None }, Some(b"on"));
    send(&mut first, &keep).await;
    echoed(&mut first, &mut reader, 1, b"on").await;
    node.stop().await;
}

#[tokio::test]
async fn one_address_cannot_hold_more_handshakes_than_its_cap() {
    let node = TestNode::start(Options {
        max_handshakes_per_source: 2,
        ..Options::default()
    })
    .await;
    let held_a = TcpStream::connect(node.addr).await.unwrap();
    let held_b = TcpStream::connect(node.addr).await.unwrap();
    let metrics = node.metrics.clone();
    eventually("two handshakes under way", || {
        metrics.snapshot().connections_active == 2
    })
    .await;
    let mut third = TcpStream::connect(node.addr).await.unwrap();
    let mut buf = [0u8; 1];
    let closed = tokio::time::timeout(Duration::from_secs(5), third.read(&mut buf)).await;
    assert!(
        matches!(closed, Ok(Ok(0) | Err(_))),
        "the third is closed at once"
    );
    assert_eq!(
        node.metrics
            .snapshot()
            .refusals(BudgetRefusal::SourceHandshakes),
        1
    );
    drop((held_a, held_b));
    eventually("the held handshakes end", || {
        metrics.snapshot().connections_active == 0
    })
    .await;
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let mut stream = node
        .vless(user(1), Command::Tcp, echo.addr(), b"back")
        .await;
    expect_response(&mut stream).await;
    node.stop().await;
}
