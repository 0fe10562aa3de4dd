//! The relay between two streams: bytes cross both ways exactly with half-close, an idle
//! timeout ends a silent relay, and on Linux spliced directions stay exact, count what they
//! spliced, and give their pipe back to the budget.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{duplex, AsyncReadExt, AsyncWriteExt};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use xtls_stream::{Moved, Relay, RelayEnd, Tally};

#[tokio::test]
async fn bytes_cross_both_ways_and_are_counted() {
    let (mut client, mut client_side) = duplex(64);
    let (mut remote_side, mut remote) = duplex(64);
    let relay = tokio::spawn(async move {
        let metrics = Tally::default();
        let end = Relay::new(
            &mut client_side,
            &mut remote_side,
            b"early".to_vec(),
            Vec::new(),
            &metrics,
        )
        .with_idle_timeout(Duration::from_secs(5))
        .await
        .unwrap();
        (end, metrics.total())
    });
    let payload: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let sent = payload.clone();
    let writer = tokio::spawn(async move {
        client.write_all(&sent).await.unwrap();
        client.shutdown().await.unwrap();
        let mut back = Vec::new();
        client.read_to_end(&mut back).await.unwrap();
        back
    });
    let mut got = Vec::new();
    remote.read_to_end(&mut got).await.unwrap();
    assert_eq!(&got[..5], b"early");
    assert_eq!(&got[5..], &payload[..]);
    remote.write_all(b"reply after half-close").await.unwrap();
    remote.shutdown().await.unwrap();
    assert_eq!(writer.await.unwrap(), b"reply after half-close");
    let (end, snap) = relay.await.unwrap();
    assert_eq!(end, RelayEnd::Finished);
    assert_eq!(snap.up, 100_005);
    assert_eq!(snap.down, 22);
}

#[tokio::test(start_paused = true)]
async fn a_connection_without_traffic_ends_after_the_idle_timeout() {
    let (_client, mut client_side) = duplex(64);
    let (mut remote_side, _remote) = duplex(64);
    let metrics = Tally::default();
    let started = Instant::now();
    let end = Relay::new(
        &mut client_side,
        &mut remote_side,
        Vec::new(),
        Vec::new(),
        &metrics,
    )
    .with_idle_timeout(Duration::from_secs(30))
    .await
    .unwrap();
    assert_eq!(end, RelayEnd::Idle);
    assert!(started.elapsed() >= Duration::from_secs(30));
}

/// Both ends of a loopback TCP connection.
#[cfg(target_os = "linux")]
async fn socket_pair() -> (tokio::net::TcpStream, tokio::net::TcpStream) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (connected, accepted) =
        tokio::join!(tokio::net::TcpStream::connect(addr), listener.accept());
    (connected.unwrap(), accepted.unwrap().0)
}

/// A relay with splice over loopback sockets: the client's and the remote's far ends,
/// and the relay's outcome with its counters.
#[cfg(target_os = "linux")]
async fn spliced_relay(
    up_initial: Vec<u8>,
    idle: Duration,
) -> (
    tokio::net::TcpStream,
    tokio::net::TcpStream,
    tokio::task::JoinHandle<(io::Result<RelayEnd>, Moved)>,
) {
    spliced_relay_with_pipes(up_initial, idle, Arc::new(Semaphore::new(2))).await
}

/// [`spliced_relay`] whose pipes come from `pipes`.
#[cfg(target_os = "linux")]
async fn spliced_relay_with_pipes(
    up_initial: Vec<u8>,
    idle: Duration,
    pipes: Arc<Semaphore>,
) -> (
    tokio::net::TcpStream,
    tokio::net::TcpStream,
    tokio::task::JoinHandle<(io::Result<RelayEnd>, Moved)>,
) {
    let (client, mut client_side) = socket_pair().await;
    let (mut remote_side, remote) = socket_pair().await;
    let relay = tokio::spawn(async move {
        let metrics = Tally::default();
        let end = Relay::new(
            &mut client_side,
            &mut remote_side,
            up_initial,
            Vec::new(),
            &metrics,
        )
        .with_idle_timeout(idle)
        .with_splice(&pipes)
        .await;
        (end, metrics.total())
    });
    (client, remote, relay)
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn spliced_bytes_cross_both_ways_at_once_exactly_with_half_close_from_the_client() {
    let (client, remote, relay) = spliced_relay(b"early".to_vec(), Duration::from_secs(5)).await;
    let up: Vec<u8> = (0..6_000_000u32).map(|i| (i % 253) as u8).collect();
    let down: Vec<u8> = (0..4_000_000u32).map(|i| (i % 241) as u8).collect();
    let (mut client_read, mut client_write) = client.into_split();
    let (mut remote_read, mut remote_write) = remote.into_split();
    let (sent_up, sent_down) = (up.clone(), down.clone());
    let client_writer = tokio::spawn(async move {
        client_write.write_all(&sent_up).await.unwrap();
        client_write.shutdown().await.unwrap();
        client_write
    });
    let remote_reader = tokio::spawn(async move {
        let mut got = Vec::new();
        remote_read.read_to_end(&mut got).await.unwrap();
        got
    });
    // The remote keeps sending after the client's half-close.
    let got_up = remote_reader.await.unwrap();
    assert_eq!(&got_up[..5], b"early");
    assert!(got_up[5..] == up[..], "bytes up differ");
    remote_write.write_all(&sent_down).await.unwrap();
    remote_write.shutdown().await.unwrap();
    let mut got_down = Vec::new();
    client_read.read_to_end(&mut got_down).await.unwrap();
    assert!(got_down == down, "bytes down differ");
    let _client_write = client_writer.await.unwrap();
    let (end, snap) = relay.await.unwrap();
    assert_eq!(end.unwrap(), RelayEnd::Finished);
    assert_eq!(snap.up, up.len() as u64 + 5);
    assert_eq!(snap.down, down.len() as u64);
    // Only the early bytes went through the buffer.
    assert_eq!(snap.spliced, (up.len() + down.len()) as u64);
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn without_a_pipe_to_spare_every_direction_copies_through_the_buffer() {
    let pipes = Arc::new(Semaphore::new(0));
    let (mut client, mut remote, relay) =
        spliced_relay_with_pipes(Vec::new(), Duration::from_secs(5), pipes.clone()).await;
    let up: Vec<u8> = (0..500_000u32).map(|i| (i % 251) as u8).collect();
    let down: Vec<u8> = (0..300_000u32).map(|i| (i % 239) as u8).collect();
    let (got_up, got_down) = tokio::join!(
        async {
            client.write_all(&up).await.unwrap();
            client.shutdown().await.unwrap();
            let mut got = Vec::new();
            client.read_to_end(&mut got).await.unwrap();
            got
        },
        async {
            remote.write_all(&down).await.unwrap();
            remote.shutdown().await.unwrap();
            let mut got = Vec::new();
            remote.read_to_end(&mut got).await.unwrap();
            got
        }
    );
    assert!(got_up == down && got_down == up, "bytes differ");
    let (end, snap) = relay.await.unwrap();
    assert_eq!(end.unwrap(), RelayEnd::Finished);
    assert_eq!(snap.spliced, 0);
    assert_eq!(snap.up + snap.down, (up.len() + down.len()) as u64);
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn an_idle_spliced_direction_gives_its_pipe_back_while_the_connection_stays_open() {
    // One pipe for both directions: each takes it while its bytes move.
    let pipes = Arc::new(Semaphore::new(1));
    let (mut client, mut remote, relay) =
        spliced_relay_with_pipes(Vec::new(), Duration::from_secs(5), pipes.clone()).await;
    let up: Vec<u8> = (0..400_000u32).map(|i| (i % 251) as u8).collect();
    client.write_all(&up).await.unwrap();
    let mut got_up = vec![0u8; up.len()];
    remote.read_exact(&mut got_up).await.unwrap();
    assert!(got_up == up, "bytes up differ");
    // Nothing moves now, and both ends are open: the pipe is back in the budget.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while pipes.available_permits() != 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "an idle relay still holds its pipe"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let down: Vec<u8> = (0..300_000u32).map(|i| (i % 239) as u8).collect();
    remote.write_all(&down).await.unwrap();
    let mut got_down = vec![0u8; down.len()];
    client.read_exact(&mut got_down).await.unwrap();
    assert!(got_down == down, "bytes down differ");
    client.shutdown().await.unwrap();
    remote.shutdown().await.unwrap();
    let (end, snap) = relay.await.unwrap();
    assert_eq!(end.unwrap(), RelayEnd::Finished);
    // The other direction found the pipe free and spliced too.
    assert_eq!(snap.spliced, (up.len() + down.len()) as u64);
    assert_eq!(pipes.available_permits(), 1);
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn spliced_half_close_from_the_remote_leaves_the_client_sending() {
    let (mut client, mut remote, relay) = spliced_relay(Vec::new(), Duration::from_secs(5)).await;
    remote.write_all(b"banner").await.unwrap();
    remote.shutdown().await.unwrap();
    let mut banner = Vec::new();
    client.read_to_end(&mut banner).await.unwrap();
    assert_eq!(banner, b"banner");
    let request: Vec<u8> = (0..1_000_000u32).map(|i| (i % 7) as u8).collect();
    client.write_all(&request).await.unwrap();
    client.shutdown().await.unwrap();
    let mut got = Vec::new();
    remote.read_to_end(&mut got).await.unwrap();
    assert!(
        got == request,
        "bytes up differ after the remote's half-close"
    );
    let (end, snap) = relay.await.unwrap();
    assert_eq!(end.unwrap(), RelayEnd::Finished);
    assert_eq!(snap.spliced, 1_000_006);
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_remote_that_resets_ends_a_spliced_relay() {
    let (mut client, remote, relay) = spliced_relay(Vec::new(), Duration::from_secs(5)).await;
    // Linger 0: closing sends RST, as a crashed peer would.
    socket2::SockRef::from(&remote)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(remote);
    let chunk = vec![7u8; 64 * 1024];
    // The client may keep writing for a while; the relay must end on its own.
    let writer = tokio::spawn(async move {
        for _ in 0..256 {
            if client.write_all(&chunk).await.is_err() {
                break;
            }
        }
        client
    });
    let (end, _) = tokio::time::timeout(Duration::from_secs(10), relay)
        .await
        .expect("the relay must end")
        .unwrap();
    // A reset reads as an error or, once the remote is gone, as the end of its stream.
    if let Ok(end) = end {
        assert_eq!(end, RelayEnd::Finished);
    }
    drop(writer.await.unwrap());
}

#[cfg(target_os = "linux")]
#[tokio::test(start_paused = true)]
async fn a_spliced_connection_without_traffic_still_ends_after_the_idle_timeout() {
    let (mut client, mut remote, relay) = spliced_relay(Vec::new(), Duration::from_secs(30)).await;
    client.write_all(b"one").await.unwrap();
    let mut three = [0u8; 3];
    remote.read_exact(&mut three).await.unwrap();
    let (end, snap) = relay.await.unwrap();
    assert_eq!(end.unwrap(), RelayEnd::Idle);
    assert_eq!(snap.spliced, 3);
}

#[tokio::test(start_paused = true)]
async fn traffic_keeps_a_connection_open_past_the_idle_timeout() {
    let (mut client, mut client_side) = duplex(64);
    let (mut remote_side, mut remote) = duplex(64);
    let relay = tokio::spawn(async move {
        let metrics = Tally::default();
        Relay::new(
            &mut client_side,
            &mut remote_side,
            Vec::new(),
            Vec::new(),
            &metrics,
        )
        .with_idle_timeout(Duration::from_secs(10))
        .await
    });
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_secs(6)).await;
        client.write_all(b"x").await.unwrap();
        let mut one = [0u8; 1];
        remote.read_exact(&mut one).await.unwrap();
    }
    assert!(!relay.is_finished());
    tokio::time::sleep(Duration::from_secs(25)).await;
    assert_eq!(relay.await.unwrap().unwrap(), RelayEnd::Idle);
}
