//! The SOCKS5 inbound (RFC 1928, no authentication, CONNECT): reads where the application wants
//! to go and answers once the node is reached.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use vless::{Address, Destination};

const VERSION: u8 = 5;
const NO_AUTH: u8 = 0;
const NO_ACCEPTABLE_METHOD: u8 = 0xff;
const CMD_CONNECT: u8 = 1;
const ATYP_V4: u8 = 1;
const ATYP_DOMAIN: u8 = 3;
const ATYP_V6: u8 = 4;

/// SOCKS5 reply codes this inbound sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    Succeeded = 0,
    GeneralFailure = 1,
    HostUnreachable = 4,
    CommandNotSupported = 7,
    AddressTypeNotSupported = 8,
}

/// Why a SOCKS5 greeting or request was refused. Never names the address asked for.
#[derive(Debug, thiserror::Error)]
pub enum SocksError {
    #[error("socks I/O: {0}")]
    Io(#[from] io::Error),
    #[error("not SOCKS version 5")]
    NotSocks5,
    #[error("the application offers no 'no authentication' method")]
    NoAcceptableMethod,
    #[error("SOCKS command {0} is not supported (only CONNECT)")]
    UnsupportedCommand(u8),
    #[error("unknown SOCKS address type {0}")]
    UnknownAddressType(u8),
    #[error("the domain name asked for is not valid")]
    BadDomain,
}

/// Reads the greeting and a CONNECT request; answers errors itself. On `Ok`, the caller must
/// send [`reply`] once it knows whether the node is reachable.
pub async fn accept<S>(stream: &mut S) -> Result<Destination, SocksError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut head = [0u8; 2];
    stream.read_exact(&mut head).await?;
    if head[0] != VERSION {
        return Err(SocksError::NotSocks5);
    }
    let mut methods = vec![0u8; usize::from(head[1])];
    stream.read_exact(&mut methods).await?;
    if !methods.contains(&NO_AUTH) {
        stream.write_all(&[VERSION, NO_ACCEPTABLE_METHOD]).await?;
        return Err(SocksError::NoAcceptableMethod);
    }
    stream.write_all(&[VERSION, NO_AUTH]).await?;

    let mut req = [0u8; 4];
    stream.read_exact(&mut req).await?;
    if req[0] != VERSION {
        return Err(SocksError::NotSocks5);
    }
    let address = match req[3] {
        ATYP_V4 => {
            let mut b = [0u8; 4];
            stream.read_exact(&mut b).await?;
            Address::Ipv4(Ipv4Addr::from(b))
        }
        ATYP_V6 => {
            let mut b = [0u8; 16];
            stream.read_exact(&mut b).await?;
            Address::Ipv6(Ipv6Addr::from(b))
        }
        ATYP_DOMAIN => {
            let len = stream.read_u8().await?;
            let mut b = vec![0u8; usize::from(len)];
            stream.read_exact(&mut b).await?;
            let name = std::str::from_utf8(&b).map_err(|_| SocksError::BadDomain)?;
            match Address::domain(name) {
                Ok(a) => a,
                Err(_) => {
                    reply(stream, Reply::HostUnreachable).await?;
                    return Err(SocksError::BadDomain);
                }
            }
        }
        other => {
            reply(stream, Reply::AddressTypeNotSupported).await?;
            return Err(SocksError::UnknownAddressType(other));
        }
    };
    let port = stream.read_u16().await?;
    if req[1] != CMD_CONNECT {
        reply(stream, Reply::CommandNotSupported).await?;
        return Err(SocksError::UnsupportedCommand(req[1]));
    }
    Ok(Destination { address, port })
}

/// Sends a reply with an unspecified bound address, as proxies that do not expose theirs do.
pub async fn reply<S: AsyncWrite + Unpin>(stream: &mut S, code: Reply) -> io::Result<()> {
    stream
        .write_all(&[VERSION, code as u8, 0, ATYP_V4, 0, 0, 0, 0, 0, 0])
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_connect_to_a_domain_yields_the_destination_after_the_no_auth_answer() {
        let (mut ours, mut app) = tokio::io::duplex(256);
        let mut req = vec![5, 2, 2, 0, 5, 1, 0, 3, 11];
        req.extend_from_slice(b"example.com");
        req.extend_from_slice(&443u16.to_be_bytes());
        app.write_all(&req).await.unwrap();
        let dest = accept(&mut ours).await.unwrap();
        assert_eq!(dest.address, Address::Domain("example.com".into()));
        assert_eq!(dest.port, 443);
        let mut method = [0u8; 2];
        app.read_exact(&mut method).await.unwrap();
        assert_eq!(method, [5, 0]);
    }

    #[tokio::test]
    async fn an_ipv6_connect_is_read_whole() {
        let (mut ours, mut app) = tokio::io::duplex(256);
        let mut req = vec![5, 1, 0, 5, 1, 0, 4];
        req.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
        req.extend_from_slice(&[0, 80]);
        app.write_all(&req).await.unwrap();
        let dest = accept(&mut ours).await.unwrap();
        assert_eq!(dest.address, Address::Ipv6(Ipv6Addr::LOCALHOST));
        assert_eq!(dest.port, 80);
    }

    #[tokio::test]
    async fn bind_is_refused_with_command_not_supported() {
        let (mut ours, mut app) = tokio::io::duplex(256);
        app.write_all(&[5, 1, 0, 5, 2, 0, 1, 127, 0, 0, 1, 0, 80])
            .await
            .unwrap();
        assert!(matches!(
            accept(&mut ours).await,
            Err(SocksError::UnsupportedCommand(2))
        ));
        let mut answer = [0u8; 12];
        app.read_exact(&mut answer).await.unwrap();
        assert_eq!(answer[..4], [5, 0, 5, 7]);
    }

    #[tokio::test]
    async fn an_application_that_insists_on_a_password_is_refused() {
        let (mut ours, mut app) = tokio::io::duplex(256);
        app.write_all(&[5, 1, 2]).await.unwrap();
        assert!(matches!(
            accept(&mut ours).await,
            Err(SocksError::NoAcceptableMethod)
        ));
        let mut answer = [0u8; 2];
        app.read_exact(&mut answer).await.unwrap();
        assert_eq!(answer, [5, 0xff]);
    }
}
