//! The PROXY protocol v2 header the node puts in front of the connections it hands to the
//! website: parsed with `ppp` (sans-I/O), read exactly so the HTTP bytes behind it stay unread.

use std::net::SocketAddr;

use ppp::v2::{Addresses, Command, Header, ParseError};
use tokio::io::{AsyncRead, AsyncReadExt as _};

/// The fixed part of a v2 header: signature, version/command, family/protocol, length.
const FIXED_LEN: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum ProxyHeaderError {
    #[error("not a PROXY protocol v2 header")]
    Malformed,
    #[error("the connection ended inside the PROXY header")]
    Io(#[from] std::io::Error),
}

/// What the header says about the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxiedSource {
    /// `PROXY` with an IPv4 or IPv6 source: the stranger the node talked to.
    Client(SocketAddr),
    /// `LOCAL` (the sender's own health check) or an address family without an IP: the
    /// connection's own address stands.
    Local,
}

/// How many bytes follow the fixed part, or `Malformed` if `fixed` does not start a v2 header.
pub fn remaining_len(fixed: &[u8; FIXED_LEN]) -> Result<usize, ProxyHeaderError> {
    match Header::try_from(&fixed[..]) {
        Err(ParseError::Partial(_, length)) => Ok(length),
        Ok(_) => Ok(0),
        Err(_) => Err(ProxyHeaderError::Malformed),
    }
}

/// The source a complete header names.
pub fn parse(header: &[u8]) -> Result<ProxiedSource, ProxyHeaderError> {
    let header = Header::try_from(header).map_err(|_| ProxyHeaderError::Malformed)?;
    if header.command == Command::Local {
        return Ok(ProxiedSource::Local);
    }
    Ok(match header.addresses {
        Addresses::IPv4(a) => {
            ProxiedSource::Client(SocketAddr::from((a.source_address, a.source_port)))
        }
        Addresses::IPv6(a) => {
            ProxiedSource::Client(SocketAddr::from((a.source_address, a.source_port)))
        }
        Addresses::Unspecified | Addresses::Unix(_) => ProxiedSource::Local,
    })
}

/// Reads exactly one header from `io` (the caller bounds the time).
pub async fn read<R: AsyncRead + Unpin>(io: &mut R) -> Result<ProxiedSource, ProxyHeaderError> {
    let mut fixed = [0u8; FIXED_LEN];
    io.read_exact(&mut fixed).await?;
    let rest = remaining_len(&fixed)?;
    let mut header = Vec::with_capacity(FIXED_LEN + rest);
    header.extend_from_slice(&fixed);
    header.resize(FIXED_LEN + rest, 0);
    io.read_exact(&mut header[FIXED_LEN..]).await?;
    parse(&header)
}

#[cfg(test)]
mod tests {
    use ppp::v2::{Builder, Protocol, Version};

    use super::*;

    fn proxy_header(source: &str, destination: &str) -> Vec<u8> {
        let src: SocketAddr = source.parse().unwrap();
        let dst: SocketAddr = destination.parse().unwrap();
        Builder::with_addresses(Version::Two | Command::Proxy, Protocol::Stream, (src, dst))
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn the_source_is_read_and_the_http_bytes_behind_stay_unread() {
        for (source, to) in [
            ("198.51.100.7:40000", "127.0.0.1:8080"),
            ("[2001:db8::5]:40001", "[::1]:8080"),
        ] {
            let mut bytes = proxy_header(source, to);
            bytes.extend_from_slice(b"GET / HTTP/1.1\r\n");
            let mut io = &bytes[..];
            assert_eq!(
                read(&mut io).await.unwrap(),
                ProxiedSource::Client(source.parse().unwrap())
            );
            assert_eq!(io, b"GET / HTTP/1.1\r\n");
        }
    }

    #[tokio::test]
    async fn a_local_header_leaves_the_connection_address() {
        let bytes = Builder::new(Version::Two | Command::Local, Protocol::Unspecified as u8)
            .build()
            .unwrap();
        assert_eq!(read(&mut &bytes[..]).await.unwrap(), ProxiedSource::Local);
    }

    #[tokio::test]
    async fn plain_http_or_a_cut_header_is_refused() {
        let mut http = &b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..];
        assert!(matches!(
            read(&mut http).await,
            Err(ProxyHeaderError::Malformed)
        ));
        let full = proxy_header("198.51.100.7:1", "127.0.0.1:2");
        let mut cut = &full[..full.len() - 1];
        assert!(matches!(read(&mut cut).await, Err(ProxyHeaderError::Io(_))));
        let mut v1 = &b"PROXY TCP4 198.51.100.7 127.0.0.1 1 2\r\n"[..];
        assert!(read(&mut v1).await.is_err());
    }

    #[test]
    fn garbage_never_panics_the_parser() {
        let mut x: u32 = 7;
        for len in 0..200 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    (x >> 16) as u8
                })
                .collect();
            let _ = parse(&bytes);
            let mut prefixed = ppp::v2::PROTOCOL_PREFIX.to_vec();
            prefixed.extend_from_slice(&bytes);
            let _ = parse(&prefixed);
            if prefixed.len() >= FIXED_LEN {
                let mut fixed = [0u8; FIXED_LEN];
                fixed.copy_from_slice(&prefixed[..FIXED_LEN]);
                let _ = remaining_len(&fixed);
            }
        }
    }
}
