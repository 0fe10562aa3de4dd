//! Loopback echo servers, the destinations traffic is proxied to.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::JoinHandle;

/// How the TCP echo answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EchoMode {
    /// Echo as bytes arrive; after the client's EOF, half-close our side too.
    Stream,
    /// Read until the client half-closes, then send everything back and close: works only if
    /// the proxy forwards a half-close and keeps the other direction open.
    AfterEof,
}

/// A TCP echo server on 127.0.0.1 (or a chosen address); stops when dropped.
pub struct TcpEcho {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl TcpEcho {
    pub async fn start(mode: EchoMode) -> std::io::Result<Self> {
        Self::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), mode).await
    }

    /// On a chosen address, e.g. one no other output has a reason to contain.
    pub async fn start_on(addr: SocketAddr, mode: EchoMode) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(async move {
                    // A reset by the far side is part of some tests; nothing to report.
                    let _ = serve(stream, mode).await;
                });
            }
        });
        Ok(TcpEcho {
            addr,
            accepted,
            task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many connections reached the server: zero means nothing was proxied.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::Relaxed)
    }
}

impl Drop for TcpEcho {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(mut stream: TcpStream, mode: EchoMode) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    match mode {
        EchoMode::Stream => {
            let (mut r, mut w) = stream.split();
            tokio::io::copy(&mut r, &mut w).await?;
            w.shutdown().await
        }
        EchoMode::AfterEof => {
            let mut all = Vec::new();
            stream.read_to_end(&mut all).await?;
            stream.write_all(&all).await?;
            stream.shutdown().await
        }
    }
}

/// A UDP echo server on 127.0.0.1 (or a chosen address): every datagram goes back to its sender unchanged.
pub struct UdpEcho {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl UdpEcho {
    pub async fn start() -> std::io::Result<Self> {
        Self::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await
    }

    /// On a chosen address, e.g. one no other output has a reason to contain.
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<Self> {
        let socket = UdpSocket::bind(addr).await?;
        let addr = socket.local_addr()?;
        let task = tokio::spawn(async move {
            let mut buf = vec![0u8; 65_535];
            while let Ok((n, from)) = socket.recv_from(&mut buf).await {
                if socket.send_to(&buf[..n], from).await.is_err() {
                    break;
                }
            }
        });
        Ok(UdpEcho { addr, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for UdpEcho {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_stream_echo_returns_bytes_and_half_closes_after_eof() {
        let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
        let mut s = TcpStream::connect(echo.addr()).await.unwrap();
        s.write_all(b"ping").await.unwrap();
        let mut b = [0u8; 4];
        s.read_exact(&mut b).await.unwrap();
        assert_eq!(&b, b"ping");
        s.shutdown().await.unwrap();
        assert_eq!(s.read(&mut b).await.unwrap(), 0);
        assert_eq!(echo.accepted(), 1);
    }

    #[tokio::test]
    async fn the_after_eof_echo_answers_only_once_the_client_half_closes() {
        let echo = TcpEcho::start(EchoMode::AfterEof).await.unwrap();
        let mut s = TcpStream::connect(echo.addr()).await.unwrap();
        s.write_all(b"abc").await.unwrap();
        let mut b = [0u8; 3];
        let early =
            tokio::time::timeout(std::time::Duration::from_millis(100), s.read(&mut b)).await;
        assert!(early.is_err(), "answered before the client's EOF");
        s.shutdown().await.unwrap();
        let mut all = Vec::new();
        s.read_to_end(&mut all).await.unwrap();
        assert_eq!(all, b"abc");
    }

    #[tokio::test]
    async fn the_udp_echo_returns_each_datagram_to_its_sender() {
        let echo = UdpEcho::start().await.unwrap();
        let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        s.send_to(b"x1", echo.addr()).await.unwrap();
        let mut b = [0u8; 8];
        let (n, from) = s.recv_from(&mut b).await.unwrap();
        assert_eq!((&b[..n], from), (&b"x1"[..], echo.addr()));
    }
}
