//! Probe resistance: whatever is not our client is handed, byte for byte, to the website,
//! within an idle limit and a maximum lifetime, optionally after a PROXY protocol v2 header
//! that tells the website who the stranger is.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ppp::v2::{Builder, Command, Protocol, Version};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use crate::config::NodeConfig;
use crate::egress::CONNECT_TIMEOUT;
use crate::metrics::Metrics;
use xtls_stream::{Relay, Transport};

/// Both ends of a client's TCP connection: the client's address and the node's. Kept in memory
/// for the connection's life only, for the PROXY protocol header.
#[derive(Clone, Copy)]
pub(crate) struct Origin {
    pub(crate) peer: SocketAddr,
    pub(crate) local: SocketAddr,
}

/// How long a stranger's relay may live.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FallbackLimits {
    /// Ends the relay when no byte moves for this long.
    pub(crate) idle: Duration,
    /// Ends the relay after this long whatever it does.
    pub(crate) lifetime: Duration,
}

impl FallbackLimits {
    pub(crate) fn of(config: &NodeConfig) -> Self {
        FallbackLimits {
            idle: config.fallback_idle_timeout,
            lifetime: config.fallback_max_lifetime,
        }
    }
}

/// Relays `client` and `other` both ways within `limits`; `to_other` and `to_client` are sent
/// first. The lifetime ending is not an error: the stranger simply loses the connection.
pub(crate) async fn relay_within<A, B>(
    client: &mut A,
    other: &mut B,
    to_other: Vec<u8>,
    to_client: Vec<u8>,
    limits: FallbackLimits,
    metrics: &Metrics,
) -> io::Result<()>
where
    A: AsyncRead + AsyncWrite + Transport + Unpin + ?Sized,
    B: AsyncRead + AsyncWrite + Transport + Unpin + ?Sized,
{
    relay_spliced_within(client, other, (to_other, to_client), limits, metrics, None).await
}

/// [`relay_within`] that splices (2) between raw sockets with pipes from `pipes`: REALITY's
/// relay of strangers to `dest`, TCP to TCP.
pub(crate) async fn relay_spliced_within<A, B>(
    client: &mut A,
    other: &mut B,
    (to_other, to_client): (Vec<u8>, Vec<u8>),
    limits: FallbackLimits,
    metrics: &Metrics,
    pipes: Option<&Arc<Semaphore>>,
) -> io::Result<()>
where
    A: AsyncRead + AsyncWrite + Transport + Unpin + ?Sized,
    B: AsyncRead + AsyncWrite + Transport + Unpin + ?Sized,
{
    let mut relay =
        Relay::new(client, other, to_other, to_client, metrics).with_idle_timeout(limits.idle);
    if let Some(pipes) = pipes {
        relay = relay.with_splice(pipes);
    }
    match tokio::time::timeout(limits.lifetime, relay).await {
        Ok(ended) => ended.map(|_| ()),
        Err(_lifetime) => Ok(()),
    }
}

/// The PROXY protocol v2 header for a TCP connection from `origin.peer` to `origin.local`
/// (an IPv4 end is written as IPv4-mapped IPv6 when the other end is IPv6).
pub(crate) fn proxy_header(origin: Origin) -> io::Result<Vec<u8>> {
    let (source, destination) = match (origin.peer, origin.local) {
        (a @ SocketAddr::V4(_), b @ SocketAddr::V4(_)) => (a, b),
        (a, b) => (mapped(a), mapped(b)),
    };
    Builder::with_addresses(
        Version::Two | Command::Proxy,
        Protocol::Stream,
        (source, destination),
    )
    .build()
}

fn mapped(addr: SocketAddr) -> SocketAddr {
    match addr {
        SocketAddr::V4(v4) => SocketAddr::new(v4.ip().to_ipv6_mapped().into(), v4.port()),
        v6 => v6,
    }
}

/// Connects to the fallback website, sends it the PROXY header when `proxy` names the
/// client's connection, then `already_read` (everything the client sent so far), then relays
/// both ways as if the client had connected to the website directly.
pub(crate) async fn hand_over<S>(
    client: &mut S,
    already_read: Vec<u8>,
    fallback: SocketAddr,
    proxy: Option<Origin>,
    limits: FallbackLimits,
    metrics: &Metrics,
) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + Transport + Unpin + ?Sized,
{
    metrics.fallback();
    let mut site = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(fallback))
        .await
        .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))??;
    site.set_nodelay(true)?;
    let to_site = match proxy {
        Some(origin) => {
            let mut header = proxy_header(origin)?;
            header.extend_from_slice(&already_read);
            header
        }
        None => already_read,
    };
    relay_within(client, &mut site, to_site, Vec::new(), limits, metrics).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{duplex, AsyncReadExt, AsyncWriteExt, DuplexStream};
    use tokio::net::TcpListener;
    use tokio::task::JoinHandle;

    const LIMITS: FallbackLimits = FallbackLimits {
        idle: Duration::from_secs(5),
        lifetime: Duration::from_secs(30),
    };

    fn origin(peer: &str, local: &str) -> Origin {
        Origin {
            peer: peer.parse().unwrap(),
            local: local.parse().unwrap(),
        }
    }

    /// A website on loopback that reads until end of stream, then answers `answer`; the task
    /// hands back what it read.
    async fn website(answer: &'static [u8]) -> (SocketAddr, JoinHandle<Vec<u8>>) {
        let site = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = site.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut conn, _) = site.accept().await.unwrap();
            let mut got = Vec::new();
            conn.read_to_end(&mut got).await.unwrap();
            conn.write_all(answer).await.unwrap();
            got
        });
        (addr, server)
    }

    /// The node handing a stranger, of whom it already read `read`, over to the website at
    /// `site` (with a PROXY header for `from`, if given): the stranger's end, and the task that
    /// hands back how many fallbacks were counted.
    fn handing_over(
        read: &'static [u8],
        site: SocketAddr,
        from: Option<Origin>,
    ) -> (DuplexStream, JoinHandle<u64>) {
        let (probe, mut node_side) = duplex(1024);
        let node = tokio::spawn(async move {
            let metrics = Metrics::default();
            hand_over(&mut node_side, read.to_vec(), site, from, LIMITS, &metrics)
                .await
                .unwrap();
            metrics.snapshot().fallbacks
        });
        (probe, node)
    }

    #[test]
    fn the_proxy_header_parses_back_with_the_strangers_and_the_nodes_addresses() {
        for (peer, local) in [
            ("198.51.100.7:50123", "203.0.113.1:443"),
            ("[2001:db8::7]:50123", "[2001:db8::1]:443"),
        ] {
            let bytes = proxy_header(origin(peer, local)).unwrap();
            let header = ppp::v2::Header::try_from(bytes.as_slice()).unwrap();
            assert_eq!(header.command, Command::Proxy);
            assert_eq!(header.protocol, Protocol::Stream);
            let expected: ppp::v2::Addresses = (
                peer.parse::<SocketAddr>().unwrap(),
                local.parse::<SocketAddr>().unwrap(),
            )
                .into();
            assert_eq!(header.addresses, expected);
            assert_eq!(header.len(), bytes.len());
        }
    }

    #[test]
    fn an_ipv4_stranger_on_an_ipv6_listener_is_written_as_mapped_ipv6() {
        let bytes = proxy_header(origin("198.51.100.7:5000", "[2001:db8::1]:443")).unwrap();
        let header = ppp::v2::Header::try_from(bytes.as_slice()).unwrap();
        let ppp::v2::Addresses::IPv6(v6) = header.addresses else {
            panic!("expected IPv6 addresses, got {:?}", header.addresses)
        };
        assert_eq!(
            v6.source_address.to_ipv4_mapped(),
            Some("198.51.100.7".parse().unwrap())
        );
        assert_eq!(v6.source_port, 5000);
        assert_eq!(v6.destination_port, 443);
    }

    #[tokio::test]
    async fn with_proxy_protocol_the_website_reads_the_header_then_the_strangers_bytes() {
        let (addr, server) = website(b"").await;
        let from = origin("192.0.2.9:40000", "192.0.2.1:443");
        let (mut probe, node) = handing_over(b"GET /", addr, Some(from));
        probe.shutdown().await.unwrap();
        let mut answer = Vec::new();
        probe.read_to_end(&mut answer).await.unwrap();
        node.await.unwrap();
        let got = server.await.unwrap();
        let header = ppp::v2::Header::try_from(got.as_slice()).unwrap();
        let expected: ppp::v2::Addresses = (from.peer, from.local).into();
        assert_eq!(header.addresses, expected);
        assert_eq!(&got[header.len()..], b"GET /");
    }

    #[tokio::test(start_paused = true)]
    async fn a_stranger_that_keeps_talking_is_cut_at_the_maximum_lifetime() {
        let (mut a, mut a_node) = duplex(1024);
        let (mut b, mut b_node) = duplex(1024);
        let limits = FallbackLimits {
            idle: Duration::from_secs(10),
            lifetime: Duration::from_secs(30),
        };
        let relay = tokio::spawn(async move {
            let metrics = Metrics::default();
            relay_within(
                &mut a_node,
                &mut b_node,
                Vec::new(),
                Vec::new(),
                limits,
                &metrics,
            )
            .await
        });
        let start = tokio::time::Instant::now();
        let mut buf = [0u8; 1];
        // A byte every 5 s keeps the idle timer from firing; the lifetime still ends it.
        while !relay.is_finished() && start.elapsed() < Duration::from_secs(60) {
            let _ = a.write_all(b"x").await;
            let _ = b.read(&mut buf).await;
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
        relay.await.unwrap().unwrap();
        let took = start.elapsed();
        assert!(
            took >= Duration::from_secs(30) && took < Duration::from_secs(40),
            "{took:?}"
        );
    }

    #[tokio::test]
    async fn the_website_receives_the_bytes_already_read_and_the_rest() {
        let (addr, server) = website(b"HTTP/1.1 200 OK\r\n\r\nsite").await;
        let (mut probe, node) = handing_over(b"GET / HT", addr, None);
        probe.write_all(b"TP/1.1\r\n\r\n").await.unwrap();
        probe.shutdown().await.unwrap();
        let mut answer = Vec::new();
        probe.read_to_end(&mut answer).await.unwrap();
        assert_eq!(server.await.unwrap(), b"GET / HTTP/1.1\r\n\r\n");
        assert_eq!(answer, b"HTTP/1.1 200 OK\r\n\r\nsite");
        assert_eq!(node.await.unwrap(), 1);
    }
}
