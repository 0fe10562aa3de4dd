//! Whole-node scenarios on loopback: a TLS VLESS client through the node to local servers, and
//! what probes, revoked users and forbidden destinations get instead.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod budgets;
mod harness;
mod plain_http;
mod tls_versions;
mod xhttp;

use std::time::{Duration, Instant};

use harness::{expect_response, read_all, user, Options, TestNode, PAGE};
use node::{AccessEntry, AccessUpdate};
use testkit::{EchoMode, TcpEcho, UdpEcho};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vless::Command;

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| {
            (i as u32)
                .wrapping_mul(2_654_435_761)
                .rotate_left(seed as u32) as u8
        })
        .collect()
}

#[tokio::test]
async fn a_client_gets_its_bytes_echoed_exactly_through_the_node() {
    let node = TestNode::start(Options::default()).await;
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let payload = pattern(1 << 20, 3);
    let mut stream = node
        .vless(user(1), Command::Tcp, echo.addr(), &payload[..1000])
        .await;
    let (mut r, mut w) = tokio::io::split(&mut stream);
    let rest = payload[1000..].to_vec();
    let writer = async move {
        w.write_all(&rest).await.unwrap();
        w.flush().await.unwrap();
        w
    };
    let reader = async move {
        let mut header = [0u8; 2];
        r.read_exact(&mut header).await.unwrap();
        assert_eq!(header, [0, 0]);
        let mut back = vec![0u8; 1 << 20];
        r.read_exact(&mut back).await.unwrap();
        back
    };
    let (_, back) = tokio::join!(writer, reader);
    assert!(back == payload, "echoed bytes differ");
    let snapshot = node.metrics.snapshot();
    assert_eq!(snapshot.sessions, 1);
    node.stop().await;
}

#[tokio::test]
async fn many_concurrent_clients_each_get_their_own_bytes_back() {
    let node = std::sync::Arc::new(TestNode::start(Options::default()).await);
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let echo_addr = echo.addr();
    let mut clients = Vec::new();
    for i in 0..16u8 {
        let node = node.clone();
        clients.push(tokio::spawn(async move {
            let payload = pattern(64 * 1024 + i as usize * 977, i);
            let who = if i % 2 == 0 { user(1) } else { user(2) };
            let mut stream = node.vless(who, Command::Tcp, echo_addr, &payload).await;
            stream.shutdown().await.unwrap();
            expect_response(&mut stream).await;
            let back = read_all(&mut stream).await;
            assert!(back == payload, "client {i} got other bytes");
        }));
    }
    for c in clients {
        c.await.unwrap();
    }
    let node = std::sync::Arc::into_inner(node).unwrap();
    assert_eq!(node.metrics.snapshot().sessions, 16);
    node.stop().await;
}

#[tokio::test]
async fn a_client_that_stops_sending_still_receives_the_reply() {
    let node = TestNode::start(Options::default()).await;
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let mut stream = node.vless(user(1), Command::Tcp, echo.addr(), b"").await;
    stream.write_all(b"last words").await.unwrap();
    stream.shutdown().await.unwrap();
    expect_response(&mut stream).await;
    assert_eq!(read_all(&mut stream).await, b"last words");
    node.stop().await;
}

#[tokio::test]
async fn datagrams_cross_the_udp_command_both_ways() {
    let node = TestNode::start(Options::default()).await;
    let echo = UdpEcho::start().await.unwrap();
    let mut framed = Vec::new();
    vless::udp::encode_packet(b"first datagram", &mut framed).unwrap();
    let mut stream = node
        .vless(user(1), Command::Udp, echo.addr(), &framed)
        .await;
    expect_response(&mut stream).await;
    let mut frame = [0u8; 16];
    stream.read_exact(&mut frame).await.unwrap();
    assert_eq!(&frame[..2], &14u16.to_be_bytes());
    assert_eq!(&frame[2..], b"first datagram");

    let big = pattern(1200, 9);
    let mut framed = Vec::new();
    vless::udp::encode_packet(&big, &mut framed).unwrap();
    vless::udp::encode_packet(b"", &mut framed).unwrap();
    stream.write_all(&framed).await.unwrap();
    stream.flush().await.unwrap();
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).await.unwrap();
    assert_eq!(u16::from_be_bytes(len), 1200);
    let mut back = vec![0u8; 1200];
    stream.read_exact(&mut back).await.unwrap();
    assert_eq!(back, big);
    stream.read_exact(&mut len).await.unwrap();
    assert_eq!(
        u16::from_be_bytes(len),
        0,
        "the empty datagram comes back empty"
    );

    // A datagram far larger than one read of the stream still crosses whole.
    let huge = pattern(60_000, 4);
    let mut framed = Vec::new();
    vless::udp::encode_packet(&huge, &mut framed).unwrap();
    stream.write_all(&framed).await.unwrap();
    stream.flush().await.unwrap();
    stream.read_exact(&mut len).await.unwrap();
    assert_eq!(usize::from(u16::from_be_bytes(len)), huge.len());
    let mut back = vec![0u8; huge.len()];
    stream.read_exact(&mut back).await.unwrap();
    assert!(back == huge);
    node.stop().await;
}

#[tokio::test]
async fn a_revoked_user_is_cut_within_a_second_and_others_keep_going() {
    let node = TestNode::start(Options::default()).await;
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let mut revoked = node
        .vless(user(1), Command::Tcp, echo.addr(), b"ping")
        .await;
    let mut kept = node
        .vless(user(2), Command::Tcp, echo.addr(), b"ping")
        .await;
    for stream in [&mut revoked, &mut kept] {
        expect_response(stream).await;
        let mut four = [0u8; 4];
        stream.read_exact(&mut four).await.unwrap();
    }
    let started = Instant::now();
    node.access.apply(AccessUpdate::Changes {
        revision: 2,
        upserts: vec![],
        revoked: vec![vless::UserKey(user(1))],
    });
    let mut rest = Vec::new();
    let end = tokio::time::timeout(Duration::from_secs(1), revoked.read_to_end(&mut rest)).await;
    assert!(end.is_ok(), "the revoked user's connection is still open");
    assert!(started.elapsed() < Duration::from_secs(1));

    kept.write_all(b"still here").await.unwrap();
    let mut back = [0u8; 10];
    kept.read_exact(&mut back).await.unwrap();
    assert_eq!(&back, b"still here");
    assert_eq!(node.metrics.snapshot().revocation_cuts, 1);
    node.stop().await;
}

#[tokio::test]
async fn a_user_whose_subscription_ends_is_cut_by_the_node_itself() {
    let node = TestNode::start(Options::default()).await;
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let ends = node::access::unix_now() + 1;
    node.access.apply(AccessUpdate::Changes {
        revision: 2,
        upserts: vec![AccessEntry {
            key: vless::UserKey(user(3)),
            expires_at: ends,
        }],
        revoked: vec![],
    });
    let mut stream = node
        .vless(user(3), Command::Tcp, echo.addr(), b"ping")
        .await;
    expect_response(&mut stream).await;
    let mut four = [0u8; 4];
    stream.read_exact(&mut four).await.unwrap();
    let mut rest = Vec::new();
    // The cut drops the connection: EOF or an error, either way the read ends.
    let _ = tokio::time::timeout(Duration::from_secs(3), stream.read_to_end(&mut rest))
        .await
        .expect("cut after expiry");
    assert!(node::access::unix_now() >= ends);
    node.stop().await;
}

#[tokio::test]
async fn an_https_visitor_sees_the_website() {
    let node = TestNode::start(Options::default()).await;
    let mut stream = node.tls().await;
    let request = b"GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: curl/8\r\n\r\n";
    stream.write_all(request).await.unwrap();
    let page = String::from_utf8(read_all(&mut stream).await).unwrap();
    assert!(page.starts_with("HTTP/1.1 200 OK"));
    assert!(page.ends_with(PAGE));
    assert_eq!(node.website.requests(), vec![request.to_vec()]);
    assert_eq!(node.metrics.snapshot().fallbacks, 1);
    node.stop().await;
}

#[tokio::test]
async fn a_wrong_user_id_gets_the_website_with_every_byte_it_sent() {
    let node = TestNode::start(Options::default()).await;
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let mut stream = node
        .vless(user(9), Command::Tcp, echo.addr(), b"hello")
        .await;
    let page = String::from_utf8(read_all(&mut stream).await).unwrap();
    assert!(page.ends_with(PAGE), "no website for a wrong id");
    let mut sent = Vec::new();
    vless::encode_request(
        &harness::request(user(9), Command::Tcp, echo.addr()),
        &mut sent,
    );
    sent.extend_from_slice(b"hello");
    assert_eq!(node.website.requests(), vec![sent]);
    assert_eq!(node.metrics.snapshot().unknown_user, 1);
    assert_eq!(node.metrics.snapshot().sessions, 0);
    node.stop().await;
}

#[tokio::test]
async fn random_bytes_get_the_website() {
    let node = TestNode::start(Options::default()).await;
    let mut stream = node.tls().await;
    let garbage = pattern(300, 7);
    stream.write_all(&garbage).await.unwrap();
    let page = String::from_utf8(read_all(&mut stream).await).unwrap();
    assert!(page.ends_with(PAGE));
    assert_eq!(node.website.requests(), vec![garbage]);
    node.stop().await;
}

#[tokio::test]
async fn a_partial_request_is_handed_to_the_website_after_the_handshake_timeout() {
    let node = TestNode::start(Options {
        handshake_timeout: Duration::from_millis(500),
        ..Options::default()
    })
    .await;
    let mut stream = node.tls().await;
    let mut partial = vec![0u8];
    partial.extend_from_slice(&user(1)[..8]);
    stream.write_all(&partial).await.unwrap();
    stream.flush().await.unwrap();
    let page = String::from_utf8(read_all(&mut stream).await).unwrap();
    assert!(page.ends_with(PAGE));
    assert_eq!(node.website.requests(), vec![partial]);
    assert_eq!(node.metrics.snapshot().handshake_timeouts, 1);
    node.stop().await;
}

#[tokio::test]
async fn a_loopback_destination_is_refused_without_an_answer() {
    let node = TestNode::start(Options {
        allow_private: false,
        ..Options::default()
    })
    .await;
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let mut stream = node
        .vless(user(1), Command::Tcp, echo.addr(), b"ping")
        .await;
    assert_eq!(read_all(&mut stream).await, b"");
    assert_eq!(node.metrics.snapshot().egress_refused, 1);
    assert_eq!(node.metrics.snapshot().sessions, 0);
    node.stop().await;
}

#[tokio::test]
async fn the_connection_limit_holds_further_clients_until_one_leaves() {
    let node = TestNode::start(Options {
        max_connections: 1,
        ..Options::default()
    })
    .await;
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let mut first = node.vless(user(1), Command::Tcp, echo.addr(), b"one").await;
    expect_response(&mut first).await;
    let second = tokio::time::timeout(Duration::from_millis(500), node.tls()).await;
    assert!(second.is_err(), "a second client was served over the limit");
    first.shutdown().await.unwrap();
    let _ = read_all(&mut first).await;
    drop(first);
    let mut third = tokio::time::timeout(Duration::from_secs(2), async {
        node.vless(user(2), Command::Tcp, echo.addr(), b"two").await
    })
    .await
    .expect("served once the first left");
    expect_response(&mut third).await;
    node.stop().await;
}

#[tokio::test]
async fn mux_sessions_carry_tcp_streams_and_xudp_datagrams_side_by_side() {
    use harness::wire::{destination, mux_frame};
    use harness::{mux_connection, FrameReader};
    use vless::mux::{GlobalId, Network, Status, Target};

    let node = TestNode::start(Options::default()).await;
    let tcp_echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let udp_echo = UdpEcho::start().await.unwrap();
    let mut stream = mux_connection(&node, user(1)).await;
    let mut frames = FrameReader::default();

    let mut out = mux_frame(
        1,
        Status::New {
            target: Target {
                network: Network::Tcp,
                destination: destination(tcp_echo.addr()),
            },
            global_id: None,
        },
        Some(b"over mux"),
    );
    out.extend(mux_frame(
        2,
        Status::New {
            target: Target {
                network: Network::Udp,
                destination: destination(udp_echo.addr()),
            },
            global_id: Some(GlobalId([7; 8])),
        },
        Some(b"xudp datagram"),
    ));
    stream.write_all(&out).await.unwrap();
    stream.flush().await.unwrap();

    let mut tcp_back = Vec::new();
    let mut udp_back = None;
    while tcp_back.len() < 8 || udp_back.is_none() {
        let frame = frames.next(&mut stream).await;
        match (frame.session_id, frame.status) {
            (1, Status::Keep { udp_peer: None }) => tcp_back.extend(frame.data.unwrap()),
            (2, Status::Keep { udp_peer }) => {
                assert_eq!(udp_peer, Some(destination(udp_echo.addr())));
                udp_back = frame.data;
            }
            (id, status) => panic!("unexpected frame for session {id}: {status:?}"),
        }
    }
    assert_eq!(tcp_back, b"over mux");
    assert_eq!(udp_back.unwrap(), b"xudp datagram");

    // The client ends the TCP session; the UDP one goes on.
    stream
        .write_all(&mux_frame(1, Status::End, None))
        .await
        .unwrap();
    let keep = mux_frame(
        2,
        Status::Keep {
            udp_peer: Some(destination(udp_echo.addr())),
        },
        Some(b"second"),
    );
    stream.write_all(&keep).await.unwrap();
    stream.flush().await.unwrap();
    let frame = frames.next(&mut stream).await;
    assert_eq!(frame.session_id, 2);
    assert_eq!(frame.data.unwrap(), b"second");
    node.stop().await;
}

#[tokio::test]
async fn a_mux_session_to_a_refused_destination_ends_with_an_error() {
    use harness::wire::{destination, mux_frame};
    use harness::{mux_connection, FrameReader};
    use vless::mux::{Network, Status, Target};

    let node = TestNode::start(Options {
        allow_private: false,
        ..Options::default()
    })
    .await;
    let tcp_echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let mut stream = mux_connection(&node, user(1)).await;
    let new = mux_frame(
        5,
        Status::New {
            target: Target {
                network: Network::Tcp,
                destination: destination(tcp_echo.addr()),
            },
            global_id: None,
        },
        Some(b"secret"),
    );
    stream.write_all(&new).await.unwrap();
    stream.flush().await.unwrap();
    let frame = FrameReader::default().next(&mut stream).await;
    assert_eq!(frame.session_id, 5);
    assert_eq!(frame.status, vless::mux::Status::End);
    assert_eq!(node.metrics.snapshot().egress_refused, 1);
    node.stop().await;
}

#[tokio::test]
async fn an_xudp_client_that_reconnects_keeps_its_public_port() {
    use harness::wire::{destination, mux_frame};
    use harness::{mux_connection, FrameReader};
    use vless::mux::{GlobalId, Network, Status, Target};

    // A UDP server that answers with the address it saw.
    let whoami = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let whoami_addr = whoami.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 512];
        loop {
            let (_, from) = whoami.recv_from(&mut buf).await.unwrap();
            let _ = whoami.send_to(from.to_string().as_bytes(), from).await;
        }
    });
    let node = TestNode::start(Options::default()).await;
    let seen_from = |id: [u8; 16], gid: [u8; 8]| {
        let node = &node;
        async move {
            let mut stream = mux_connection(node, id).await;
            let new = mux_frame(
                1,
                Status::New {
                    target: Target {
                        network: Network::Udp,
                        destination: destination(whoami_addr),
                    },
                    global_id: Some(GlobalId(gid)),
                },
                Some(b"who am i"),
            );
            stream.write_all(&new).await.unwrap();
            stream.flush().await.unwrap();
            let frame = FrameReader::default().next(&mut stream).await;
            (stream, String::from_utf8(frame.data.unwrap()).unwrap())
        }
    };
    let (first_connection, first) = seen_from(user(1), [1; 8]).await;
    drop(first_connection);
    let (_second_connection, again) = seen_from(user(1), [1; 8]).await;
    assert_eq!(first, again, "the same global id keeps its port");
    let (_other, other_user) = seen_from(user(2), [1; 8]).await;
    assert_ne!(first, other_user, "another user never shares the mapping");
    node.stop().await;
}
