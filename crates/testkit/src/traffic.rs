//! Byte-exact traffic through a SOCKS proxy to the echo servers: the checks every interop test
//! makes, each bounded in time so a broken proxy fails the test instead of hanging it.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio::time::timeout;

use crate::peer::PeerKind;
use crate::socks::{self, SocksError, UdpAssociation};

/// The longest one check may take.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(60);
/// How long to wait for one UDP echo before sending again.
const UDP_REPLY_TIMEOUT: Duration = Duration::from_secs(2);
/// Sends of one datagram before giving up: loopback rarely drops, but UDP may.
const UDP_TRIES: usize = 3;
/// How soon a round trip that did not get through is tried again.
const THROUGH_RETRY: Duration = Duration::from_millis(50);
/// Writes are chunked so both directions are in flight at once.
const CHUNK: usize = 16 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum TrafficError {
    #[error(transparent)]
    Socks(#[from] SocksError),
    #[error("I/O: {0}")]
    Io(#[from] io::Error),
    #[error("timed out: {0}")]
    Timeout(&'static str),
    #[error("sent {sent} bytes, got {received} back, first difference at byte {first_difference}")]
    Mismatch {
        sent: usize,
        received: usize,
        first_difference: usize,
    },
    #[error("a datagram of {0} bytes came back that was never sent")]
    StrangeDatagram(usize),
    #[error("the echo reply came from {got}, not from the echo server at {want}")]
    WrongSender { got: SocketAddr, want: SocketAddr },
    #[error("a writer task died: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("the connection was still open after {0:?}")]
    NotCut(Duration),
}

/// Datagram sizes the UDP checks send: tiny, MTU-sized and larger than an MTU.
pub const UDP_SIZES: &[usize] = &[1, 64, 512, 1400, 4000, 8000];

/// `UDP_SIZES` that `client` relays whole.
pub fn udp_sizes_for(client: PeerKind) -> Vec<usize> {
    UDP_SIZES
        .iter()
        .copied()
        .filter(|&s| s <= client.client_max_udp_payload())
        .collect()
}

/// `n` random bytes.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    getrandom::fill(&mut v).expect("the OS random source is available on every test machine");
    v
}

/// Sends `payload` through `proxy` to a TCP echo at `target` while reading the echo back, then
/// half-closes and expects the echo's EOF: checks the bytes, both directions and half-close.
pub async fn tcp_roundtrip(
    proxy: SocketAddr,
    target: SocketAddr,
    payload: &[u8],
) -> Result<(), TrafficError> {
    let run = async {
        let stream = socks::connect(proxy, target).await?;
        exchange(stream, payload.to_vec()).await
    };
    let received = timeout(CHECK_TIMEOUT, run)
        .await
        .map_err(|_| TrafficError::Timeout("TCP round trip"))??;
    compare(payload, &received)
}

/// Retries a small round trip through `proxy` to the echo at `target` until one gets through, as
/// a user's first connection after `milly user add` does (the node learns of users through its
/// feed a moment later); the last failure once `limit` has passed.
pub async fn wait_until_through(
    proxy: SocketAddr,
    target: SocketAddr,
    limit: Duration,
) -> Result<(), TrafficError> {
    let start = Instant::now();
    loop {
        match tcp_roundtrip(proxy, target, b"ping").await {
            Ok(()) => return Ok(()),
            Err(e) if start.elapsed() >= limit => return Err(e),
            Err(_) => tokio::time::sleep(THROUGH_RETRY).await,
        }
    }
}

/// Writes `payload` then half-closes, concurrently reading until EOF; returns what was read.
pub async fn exchange(stream: TcpStream, payload: Vec<u8>) -> Result<Vec<u8>, TrafficError> {
    let (mut r, mut w) = stream.into_split();
    let writer = tokio::spawn(async move {
        for chunk in payload.chunks(CHUNK) {
            w.write_all(chunk).await?;
        }
        w.shutdown().await?;
        // Keep the write half alive until the reader is done: dropping it is not a close.
        Ok::<_, io::Error>(w)
    });
    let mut received = Vec::new();
    r.read_to_end(&mut received).await?;
    writer.await??;
    Ok(received)
}

/// `connections` concurrent round trips of `size` random bytes each.
pub async fn tcp_roundtrips(
    proxy: SocketAddr,
    target: SocketAddr,
    connections: usize,
    size: usize,
) -> Result<(), TrafficError> {
    let mut set = JoinSet::new();
    for _ in 0..connections {
        let payload = random_bytes(size);
        set.spawn(async move { tcp_roundtrip(proxy, target, &payload).await });
    }
    while let Some(done) = set.join_next().await {
        done??;
    }
    Ok(())
}

fn compare(sent: &[u8], received: &[u8]) -> Result<(), TrafficError> {
    if sent == received {
        return Ok(());
    }
    let first_difference = sent
        .iter()
        .zip(received)
        .position(|(a, b)| a != b)
        .unwrap_or(sent.len().min(received.len()));
    Err(TrafficError::Mismatch {
        sent: sent.len(),
        received: received.len(),
        first_difference,
    })
}

/// One UDP association through `proxy`; for each size a random datagram to the UDP echo at
/// `target`, which must come back byte for byte from `target`.
pub async fn udp_roundtrips(
    proxy: SocketAddr,
    target: SocketAddr,
    sizes: &[usize],
) -> Result<(), TrafficError> {
    let run = async {
        let assoc = UdpAssociation::open(proxy).await?;
        let mut sent: Vec<Vec<u8>> = Vec::new();
        for &size in sizes {
            let payload = random_bytes(size);
            sent.push(payload.clone());
            udp_one(&assoc, target, &payload, &sent).await?;
        }
        Ok::<_, TrafficError>(())
    };
    timeout(CHECK_TIMEOUT, run)
        .await
        .map_err(|_| TrafficError::Timeout("UDP round trips"))?
}

async fn udp_one(
    assoc: &UdpAssociation,
    target: SocketAddr,
    payload: &[u8],
    sent: &[Vec<u8>],
) -> Result<(), TrafficError> {
    for _ in 0..UDP_TRIES {
        assoc.send_to(payload, target).await?;
        let deadline = Instant::now() + UDP_REPLY_TIMEOUT;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            let Ok(reply) = timeout(left, assoc.recv_from()).await else {
                break;
            };
            let (data, from) = reply?;
            if data == payload {
                if from != target {
                    return Err(TrafficError::WrongSender {
                        got: from,
                        want: target,
                    });
                }
                return Ok(());
            }
            // A late copy of an earlier datagram is UDP being UDP; anything else is corruption.
            if !sent.contains(&data) {
                return Err(TrafficError::StrangeDatagram(data.len()));
            }
        }
    }
    Err(TrafficError::Timeout("no UDP echo after retries"))
}

/// Keeps pinging the echo at the other end of `stream` every `interval` and returns how long
/// after the call the connection was cut (EOF, reset or a failed write). Errors with `NotCut`
/// if it is still open after `limit`.
pub async fn time_until_cut(
    stream: &mut TcpStream,
    interval: Duration,
    limit: Duration,
) -> Result<Duration, TrafficError> {
    let start = Instant::now();
    let mut buf = [0u8; 64];
    loop {
        if start.elapsed() > limit {
            return Err(TrafficError::NotCut(limit));
        }
        if stream.write_all(b"ping").await.is_err() {
            return Ok(start.elapsed());
        }
        // Any read result other than echo data (EOF, error) means the connection is gone.
        match timeout(interval, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Ok(start.elapsed()),
            Ok(Ok(_)) => tokio::time::sleep(interval).await,
            Err(_) => {}
        }
    }
}

/// A round trip of `size` random bytes to an echo that answers only after EOF. For a client that
/// does not carry half-closes (v2ray 4.34) the answer may also never come (the server learns of
/// the EOF only if v2ray's own timeout closes the connection in time); anything else fails.
pub async fn tcp_roundtrip_after_eof(
    client: PeerKind,
    proxy: SocketAddr,
    after_eof_echo: SocketAddr,
    size: usize,
) -> Result<(), TrafficError> {
    let payload = random_bytes(size);
    match tcp_roundtrip(proxy, after_eof_echo, &payload).await {
        Err(TrafficError::Mismatch { received: 0, .. }) if !client.client_carries_half_close() => {
            Ok(())
        }
        result => result,
    }
}

/// Waits until one ping goes through `proxy` to the echo at `echo` and back (the node has
/// admitted the user), the writing half kept open: WebSocket and sing-box's gRPC carry no
/// half-close. Panics with `log()` once `deadline` has passed.
pub async fn wait_through_kept_open(
    proxy: SocketAddr,
    echo: SocketAddr,
    deadline: Duration,
    log: impl Fn() -> String,
) {
    let start = Instant::now();
    loop {
        let attempt = async {
            let mut s = socks::connect(proxy, echo).await.ok()?;
            s.write_all(b"ping").await.ok()?;
            let mut got = [0u8; 4];
            s.read_exact(&mut got).await.ok()?;
            (&got == b"ping").then_some(())
        };
        if let Ok(Some(())) = timeout(Duration::from_secs(3), attempt).await {
            return;
        }
        assert!(
            start.elapsed() < deadline,
            "nothing got through:\n{}",
            log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `count` concurrent round trips of `size` random bytes through `proxy` to the echo at `echo`,
/// each compared byte for byte and read back in full before its writing half closes (no
/// half-close needed). `what` names the transport in a failure.
pub async fn roundtrips_kept_open(
    proxy: SocketAddr,
    echo: SocketAddr,
    count: usize,
    size: usize,
    what: &str,
) {
    let mut set = JoinSet::new();
    for _ in 0..count {
        let what = what.to_owned();
        set.spawn(async move {
            let payload = random_bytes(size);
            let stream = socks::connect(proxy, echo).await.expect("SOCKS connect");
            let (mut r, mut w) = stream.into_split();
            let sent = payload.clone();
            let writer = tokio::spawn(async move {
                for chunk in sent.chunks(CHUNK) {
                    w.write_all(chunk).await.expect("a write");
                }
                w
            });
            let mut got = vec![0u8; payload.len()];
            timeout(CHECK_TIMEOUT, r.read_exact(&mut got))
                .await
                .unwrap_or_else(|_| panic!("{what}: the echo did not come back in time"))
                .unwrap_or_else(|e| panic!("{what}: the echo did not come back whole: {e}"));
            drop(writer.await.expect("the writer"));
            assert!(
                got == payload,
                "{what}: the echo differs from what was sent"
            );
        });
    }
    while let Some(done) = set.join_next().await {
        done.expect("a round trip");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mismatch_names_the_first_differing_byte() {
        assert!(compare(b"abc", b"abc").is_ok());
        match compare(b"abcd", b"abXd") {
            Err(TrafficError::Mismatch {
                first_difference, ..
            }) => assert_eq!(first_difference, 2),
            other => panic!("{other:?}"),
        }
        match compare(b"abcd", b"ab") {
            Err(TrafficError::Mismatch {
                first_difference,
                received,
                ..
            }) => {
                assert_eq!((first_difference, received), (2, 2))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn v2ray_gets_only_datagrams_it_can_relay_whole() {
        assert_eq!(udp_sizes_for(PeerKind::SingBox), UDP_SIZES);
        assert!(udp_sizes_for(PeerKind::V2Ray).iter().all(|&s| s <= 2_038));
        assert!(udp_sizes_for(PeerKind::V2Ray).contains(&1400));
    }

    #[test]
    fn random_payloads_differ() {
        assert_ne!(random_bytes(32), random_bytes(32));
    }
}
