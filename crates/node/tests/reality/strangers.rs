//! Everyone who is not our client ends up at `dest`: plain TLS clients, REALITY clients with
//! a wrong short id, time, name or key, replayed hellos, bytes that are not TLS, and silent or
//! half-done probers.

use std::time::{Duration, SystemTime};

use reality::{parse_short_id, ClientHandshake, SystemRng, TlsError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::{answering_dest, client_config, handshake, TestNode, NAME};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_tls_client_is_relayed_and_sees_dests_certificate_and_page() {
    let node = TestNode::start().await;
    let text = testkit::tls_site::fetch_page(node.addr, NAME).await;
    assert!(text.contains(&format!("subject=CN = {NAME}")), "{text}");
    assert!(text.contains("s_server"), "dest's page: {text}");
    assert_eq!(node.metrics.snapshot().fallbacks, 1);
    assert_eq!(node.metrics.snapshot().sessions, 0);
}

/// A REALITY client the node must not accept gets dest's real handshake, whose certificate
/// is not a REALITY certificate for its key.
async fn assert_relayed(node: &TestNode, hs: ClientHandshake, fallbacks_before: u64) {
    let (_sock, _, layer) = handshake(node.addr, hs).await;
    assert_eq!(layer.err(), Some(TlsError::BadCertificate));
    assert_eq!(node.metrics.snapshot().fallbacks, fallbacks_before + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_short_id_stale_time_and_wrong_server_name_end_up_at_dest() {
    let node = TestNode::start().await;
    let now = SystemTime::now();

    let mut wrong_id = client_config();
    wrong_id.short_id = parse_short_id("0123abce").unwrap();
    let hs = ClientHandshake::new(&wrong_id, now, &mut SystemRng).unwrap();
    assert_relayed(&node, hs, 0).await;

    let stale = now - Duration::from_secs(300);
    let hs = ClientHandshake::new(&client_config(), stale, &mut SystemRng).unwrap();
    assert_relayed(&node, hs, 1).await;

    let mut wrong_name = client_config();
    wrong_name.server_name = "www.example.org".into();
    let hs = ClientHandshake::new(&wrong_name, now, &mut SystemRng).unwrap();
    assert_relayed(&node, hs, 2).await;

    let mut wrong_key = client_config();
    wrong_key.public_key = reality::public_key(&[0x32; 32]);
    let hs = ClientHandshake::new(&wrong_key, now, &mut SystemRng).unwrap();
    assert_relayed(&node, hs, 3).await;

    assert_eq!(node.metrics.snapshot().sessions, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_client_hello_ends_up_at_dest() {
    let node = TestNode::start().await;
    let hs = ClientHandshake::new(&client_config(), SystemTime::now(), &mut SystemRng).unwrap();
    let (_first, hello, layer) = handshake(node.addr, hs).await;
    assert!(layer.is_ok(), "the first use of the hello is served");
    assert_eq!(node.metrics.snapshot().fallbacks, 0);

    let mut replay = TcpStream::connect(node.addr).await.unwrap();
    replay.write_all(&hello).await.unwrap();
    let mut head = [0u8; 5];
    tokio::time::timeout(Duration::from_secs(10), replay.read_exact(&mut head))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(head[..3], [22, 3, 3], "a TLS handshake record from dest");
    assert_eq!(node.metrics.snapshot().fallbacks, 1);
}

/// Sends `bytes` on `probe`, half-closes, and reads what comes back until end of stream.
async fn send_and_read_to_end(mut probe: TcpStream, bytes: &[u8]) -> Vec<u8> {
    probe.write_all(bytes).await.unwrap();
    probe.shutdown().await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), probe.read_to_end(&mut answer))
        .await
        .unwrap()
        .unwrap();
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_that_are_not_tls_reach_dest_unchanged_and_its_answer_comes_back_unchanged() {
    // A plain TCP dest that answers what it read, so both directions can be compared.
    let (dest_addr, seen) = answering_dest().await;
    let node = TestNode::start_with(testkit::TlsSite::start(NAME), dest_addr).await;
    let request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    let probe = TcpStream::connect(node.addr).await.unwrap();
    let answer = send_and_read_to_end(probe, request).await;
    assert_eq!(seen.await.unwrap(), request);
    assert_eq!(answer, [&b"dest read: "[..], request].concat());
    assert_eq!(node.metrics.snapshot().fallbacks, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strangers_bulk_bytes_to_dest_are_spliced_and_arrive_unchanged() {
    let (dest_addr, seen) = answering_dest().await;
    let node = TestNode::start_with(testkit::TlsSite::start(NAME), dest_addr).await;
    let mut request = b"PUT /upload HTTP/1.1\r\nHost: x\r\n\r\n".to_vec();
    request.extend((0..2_000_000u32).map(|i| (i % 249) as u8));
    let probe = TcpStream::connect(node.addr).await.unwrap();
    let answer = send_and_read_to_end(probe, &request).await;
    assert!(seen.await.unwrap() == request, "dest read other bytes");
    assert!(
        answer == [&b"dest read: "[..], &request].concat(),
        "the answer differs"
    );
    // What came after the first read went socket to socket in the kernel, both ways.
    let spliced = node.metrics.snapshot().vision_splice_bytes;
    assert!(spliced > 2_000_000, "only {spliced} bytes were spliced");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prober_silent_past_the_handshake_timeout_still_talks_to_dest() {
    let (dest_addr, seen) = answering_dest().await;
    let timeout = Duration::from_millis(200);
    let node =
        TestNode::start_with_timeout(testkit::TlsSite::start(NAME), dest_addr, timeout).await;
    let probe = TcpStream::connect(node.addr).await.unwrap();
    tokio::time::sleep(timeout * 3).await;
    let answer = send_and_read_to_end(probe, b"late").await;
    assert_eq!(seen.await.unwrap(), b"late");
    assert_eq!(answer, b"dest read: late");
    assert_eq!(node.metrics.snapshot().fallbacks, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prober_that_sends_half_a_client_hello_and_closes_gets_dests_answer() {
    let (dest_addr, seen) = answering_dest().await;
    let node = TestNode::start_with(testkit::TlsSite::start(NAME), dest_addr).await;
    let mut hs = ClientHandshake::new(&client_config(), SystemTime::now(), &mut SystemRng).unwrap();
    let mut hello = hs.poll_output();
    hello.truncate(100);
    let probe = TcpStream::connect(node.addr).await.unwrap();
    let answer = send_and_read_to_end(probe, &hello).await;
    assert_eq!(seen.await.unwrap(), hello);
    assert_eq!(answer, [&b"dest read: "[..], &hello].concat());
    assert_eq!(node.metrics.snapshot().fallbacks, 1);
}
