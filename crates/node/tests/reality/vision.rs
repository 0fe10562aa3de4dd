//! XTLS Vision through the REALITY node with the shared client stack: bytes byte-exact, plain
//! VLESS refused as Xray refuses it, an inner TLS 1.3 session switching both sides to direct
//! copy (spliced on Linux), and Mux with XUDP inside Vision.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use reality::{ClientHandshake, Received, SystemRng};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::harness::{
    client_config, destination, echo_server, message, mux_frame, recv, send, vision_client,
    vless_request, TestNode,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_reaches_an_echo_server_byte_exact_over_several_connections() {
    let node = TestNode::start().await;
    let echo = echo_server().await;
    let addr = node.addr;
    let mut tasks = Vec::new();
    for (i, len) in [1, 1000, 16_384, 16_385, 100_000, 300_000]
        .into_iter()
        .enumerate()
    {
        tasks.push(tokio::spawn(async move {
            let sent = message(len, i as u32);
            let mut client =
                vision_client(addr, vless::Command::Tcp, Some(destination(echo))).await;
            send(&mut client, &sent).await;
            let mut got = Vec::new();
            while got.len() < sent.len() {
                got.extend_from_slice(&recv(&mut client).await);
            }
            (sent, got)
        }));
    }
    for task in tasks {
        let (sent, got) = task.await.unwrap();
        assert_eq!(got.len(), sent.len());
        assert!(got == sent, "echo differs");
    }
    let seen = node.metrics.snapshot();
    assert_eq!(seen.sessions, 6);
    assert_eq!(seen.fallbacks, 0);
}

/// One REALITY connection with plain VLESS (no flow): request plus `message` up; what came
/// back after the two-byte VLESS response header, or `None` when the node closed without one.
async fn plain_echo(node: SocketAddr, echo: SocketAddr, message: &[u8]) -> Option<Vec<u8>> {
    let sock = TcpStream::connect(node).await.unwrap();
    let mut stream = xtls_stream::connect(sock, &client_config()).await.unwrap();
    let mut plain = vless_request(echo);
    plain.extend_from_slice(message);
    stream.write_all(&plain).await.unwrap();
    stream.flush().await.unwrap();
    let mut got = Vec::new();
    let mut buf = vec![0; 32 * 1024];
    while got.len() < message.len() + 2 {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .unwrap()
            .unwrap_or(0);
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    if got.len() < 2 {
        return None;
    }
    assert_eq!(got[..2], [vless::VERSION, 0], "VLESS response header");
    Some(got.split_off(2))
}

/// As Xray-core does for users whose flow is Vision (on REALITY, all of them): plain VLESS TCP
/// from a client that lost the link's flow, whose TLS-in-TLS would show on the wire, is refused
/// — the node closes without an answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_vless_tcp_without_the_vision_flow_is_refused_as_xray_does() {
    let node = TestNode::start().await;
    let echo = echo_server().await;
    assert_eq!(plain_echo(node.addr, echo, b"hello").await, None);
    let seen = node.metrics.snapshot();
    assert_eq!(seen.sessions, 0);
    assert_eq!(seen.fallbacks, 0);
}

/// A TLS 1.3 server (the reality crate's engine, certified for the client's key so our client
/// engine accepts it) that echoes application data: the inner TLS a browser would speak.
/// Each connection takes the next key from the returned sender.
async fn inner_tls_echo() -> (SocketAddr, tokio::sync::mpsc::UnboundedSender<[u8; 32]>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (keys, mut next_key) = tokio::sync::mpsc::unbounded_channel::<[u8; 32]>();
    tokio::spawn(async move {
        loop {
            let (mut conn, _) = listener.accept().await.unwrap();
            let key = next_key.recv().await.unwrap();
            tokio::spawn(async move {
                let mut input = Vec::new();
                let mut buf = vec![0; 32 * 1024];
                let (hello, used) = loop {
                    let n = conn.read(&mut buf).await.unwrap();
                    assert!(n > 0);
                    input.extend_from_slice(&buf[..n]);
                    if let reality::Parse::Done { value, consumed } =
                        reality::ClientHello::read(&input).unwrap()
                    {
                        break (value, consumed);
                    }
                };
                let cert = reality::RealityCert::generate(&mut SystemRng);
                let mut hs = reality::ServerHandshake::new(
                    &hello,
                    &key,
                    &cert,
                    &reality::ServerOptions::default(),
                    None,
                    &mut SystemRng,
                )
                .unwrap();
                conn.write_all(&hs.poll_output()).await.unwrap();
                let mut done = hs.feed(&input[used..]).unwrap();
                while !done {
                    let n = conn.read(&mut buf).await.unwrap();
                    assert!(n > 0);
                    done = hs.feed(&buf[..n]).unwrap();
                }
                let mut layer = hs.into_record_layer().unwrap();
                let mut plain = Vec::new();
                loop {
                    match layer.read(&mut plain).unwrap() {
                        Received::NeedMore => {
                            let n = conn.read(&mut buf).await.unwrap();
                            if n == 0 {
                                return;
                            }
                            layer.feed(&buf[..n]);
                        }
                        Received::Closed => return,
                        _ => {
                            if !plain.is_empty() {
                                let mut wire = Vec::new();
                                layer.write(&plain, &mut wire).unwrap();
                                conn.write_all(&wire).await.unwrap();
                                plain.clear();
                            }
                        }
                    }
                }
            });
        }
    });
    (addr, keys)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vision_carries_inner_tls13_byte_exact_and_both_sides_switch_to_direct_copy() {
    let node = TestNode::start().await;
    let (target, keys) = inner_tls_echo().await;
    for round in 0..3u32 {
        let mut inner =
            ClientHandshake::new(&client_config(), SystemTime::now(), &mut SystemRng).unwrap();
        // The inner server certifies for this client's key (our client engine checks it).
        keys.send(inner.auth_key()).unwrap();
        let mut client =
            vision_client(node.addr, vless::Command::Tcp, Some(destination(target))).await;
        send(&mut client, &inner.poll_output()).await;
        while !inner.feed(&recv(&mut client).await).unwrap() {}
        send(&mut client, &inner.poll_output()).await;
        let mut layer = inner.into_record_layer().unwrap();
        // A short request and its answer (whole records: both sides go direct), then bulk.
        for len in [100, 200_000 + round as usize * 1000] {
            let message = message(len, round);
            let mut wire = Vec::new();
            layer.write(&message, &mut wire).unwrap();
            send(&mut client, &wire).await;
            let mut got = Vec::new();
            while got.len() < message.len() {
                match layer.read(&mut got).unwrap() {
                    Received::NeedMore => layer.feed(&recv(&mut client).await),
                    Received::Closed => panic!("inner server closed"),
                    _ => {}
                }
            }
            assert!(got == message, "inner bytes differ");
        }
        assert!(client.is_write_direct(), "the client went direct");
        assert!(client.is_read_direct(), "the node went direct");
    }
    assert_eq!(node.metrics.snapshot().sessions, 3);
    assert_eq!(node.metrics.snapshot().fallbacks, 0);
    // On Linux the bulk after the switch goes socket to socket with splice(2); a relay adds
    // its count when it ends, a moment after its client left.
    if cfg!(target_os = "linux") {
        let start = std::time::Instant::now();
        while node.metrics.snapshot().connections_active > 0 {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "relays still open"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let spliced = node.metrics.snapshot().vision_splice_bytes;
        // Most of 2 × 3 × 200 kB; at least one direction's bulk, whatever the timing.
        assert!(
            spliced >= 3 * 200_000,
            "direct copy did not use splice: {spliced} bytes spliced"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xudp_and_tcp_ride_mux_inside_vision() {
    use vless::mux::{GlobalId, Network, Status, Target};
    let node = TestNode::start().await;
    let tcp_echo = echo_server().await;
    let udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let udp_echo = udp.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = vec![0; 2048];
        loop {
            let (n, from) = udp.recv_from(&mut buf).await.unwrap();
            udp.send_to(&buf[..n], from).await.unwrap();
        }
    });
    let mut client = vision_client(node.addr, vless::Command::Mux, None).await;
    let mut out = mux_frame(
        1,
        Status::New {
            target: Target {
                network: Network::Tcp,
                destination: destination(tcp_echo),
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
                destination: destination(udp_echo),
            },
            global_id: Some(GlobalId([7; 8])),
        },
        Some(b"xudp datagram"),
    ));
    send(&mut client, &out).await;
    let mut input = Vec::new();
    let mut tcp_back = Vec::new();
    let mut udp_back = None;
    while tcp_back.len() < 8 || udp_back.is_none() {
        let frame = loop {
            if let vless::Parse::Done {
                value: frame,
                consumed: used,
            } = vless::mux::decode_frame(&input).unwrap()
            {
                let owned = (
                    frame.session_id,
                    frame.status,
                    frame.data.map(<[u8]>::to_vec),
                );
                input.drain(..used);
                break owned;
            }
            input.extend(recv(&mut client).await);
        };
        match frame {
            (1, Status::Keep { udp_peer: None }, Some(data)) => tcp_back.extend(data),
            (2, Status::Keep { udp_peer }, data) => {
                assert_eq!(udp_peer, Some(destination(udp_echo)));
                udp_back = data;
            }
            other => panic!("unexpected frame {other:?}"),
        }
    }
    assert_eq!(tcp_back, b"over mux");
    assert_eq!(udp_back.unwrap(), b"xudp datagram");
    assert!(
        !client.is_read_direct() && !client.is_write_direct(),
        "Mux is not TLS: no direct copy"
    );
}
