//! Probe resistance: whatever is not our client is handed, byte for byte, to the website.

use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::egress::CONNECT_TIMEOUT;
use crate::metrics::Metrics;
use crate::relay::Relay;
use crate::splice::RawSocket;
use std::time::Duration;

/// Connects to the fallback website, sends it `already_read` (everything the client sent so
/// far), then relays both ways as if the client had connected to the website directly.
pub(crate) async fn hand_over<S>(
    client: &mut S,
    already_read: Vec<u8>,
    fallback: SocketAddr,
    idle: Duration,
    metrics: &Metrics,
) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + RawSocket + Unpin + ?Sized,
{
    metrics.fallback();
    let mut site = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(fallback))
        .await
        .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))??;
    site.set_nodelay(true)?;
    Relay::new(client, &mut site, already_read, Vec::new(), idle, metrics).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{duplex, AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    #[tokio::test]
    async fn the_website_receives_the_bytes_already_read_and_the_rest() {
        let site = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = site.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut conn, _) = site.accept().await.unwrap();
            let mut got = Vec::new();
            conn.read_to_end(&mut got).await.unwrap();
            conn.write_all(b"HTTP/1.1 200 OK\r\n\r\nsite")
                .await
                .unwrap();
            got
        });
        let (mut probe, mut node_side) = duplex(1024);
        let node = tokio::spawn(async move {
            let metrics = Metrics::default();
            hand_over(
                &mut node_side,
                b"GET / HT".to_vec(),
                addr,
                Duration::from_secs(5),
                &metrics,
            )
            .await
            .unwrap();
            metrics.snapshot().fallbacks
        });
        probe.write_all(b"TP/1.1\r\n\r\n").await.unwrap();
        probe.shutdown().await.unwrap();
        let mut answer = Vec::new();
        probe.read_to_end(&mut answer).await.unwrap();
        assert_eq!(server.await.unwrap(), b"GET / HTTP/1.1\r\n\r\n");
        assert_eq!(answer, b"HTTP/1.1 200 OK\r\n\r\nsite");
        assert_eq!(node.await.unwrap(), 1);
    }
}
