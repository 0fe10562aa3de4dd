//! A minimal SOCKS5 client (RFC 1928, no authentication): TCP CONNECT and UDP ASSOCIATE, enough
//! to drive traffic through a peer's SOCKS inbound.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

const VERSION: u8 = 5;
const NO_AUTH: u8 = 0;
const CMD_CONNECT: u8 = 1;
const CMD_UDP_ASSOCIATE: u8 = 3;
const ATYP_V4: u8 = 1;
const ATYP_DOMAIN: u8 = 3;
const ATYP_V6: u8 = 4;
/// Big enough for any UDP datagram.
const MAX_DATAGRAM: usize = 65_535;

#[derive(Debug, thiserror::Error)]
pub enum SocksError {
    #[error("socks I/O: {0}")]
    Io(#[from] io::Error),
    #[error("the proxy does not speak SOCKS5 without authentication")]
    NoAcceptableMethod,
    #[error("the proxy refused the request with reply code {0}")]
    Refused(u8),
    #[error("malformed reply from the proxy")]
    Malformed,
}

/// Where to go: an address, or a name the proxy resolves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Addr(SocketAddr),
    Domain(String, u16),
}

impl From<SocketAddr> for Target {
    fn from(a: SocketAddr) -> Self {
        Target::Addr(a)
    }
}

impl Target {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Target::Addr(SocketAddr::V4(a)) => {
                out.push(ATYP_V4);
                out.extend_from_slice(&a.ip().octets());
                out.extend_from_slice(&a.port().to_be_bytes());
            }
            Target::Addr(SocketAddr::V6(a)) => {
                out.push(ATYP_V6);
                out.extend_from_slice(&a.ip().octets());
                out.extend_from_slice(&a.port().to_be_bytes());
            }
            Target::Domain(name, port) => {
                out.push(ATYP_DOMAIN);
                // A longer name cannot be expressed; the proxy rejects the truncated one.
                let len = name.len().min(255);
                out.push(len as u8);
                out.extend_from_slice(&name.as_bytes()[..len]);
                out.extend_from_slice(&port.to_be_bytes());
            }
        }
    }
}

/// Opens a TCP connection to `target` through the SOCKS5 proxy at `proxy`.
pub async fn connect(
    proxy: SocketAddr,
    target: impl Into<Target>,
) -> Result<TcpStream, SocksError> {
    let mut stream = TcpStream::connect(proxy).await?;
    stream.set_nodelay(true)?;
    request(&mut stream, CMD_CONNECT, &target.into()).await?;
    Ok(stream)
}

async fn request(
    stream: &mut TcpStream,
    cmd: u8,
    target: &Target,
) -> Result<SocketAddr, SocksError> {
    stream.write_all(&[VERSION, 1, NO_AUTH]).await?;
    let mut method = [0u8; 2];
    stream.read_exact(&mut method).await?;
    if method != [VERSION, NO_AUTH] {
        return Err(SocksError::NoAcceptableMethod);
    }
    let mut req = vec![VERSION, cmd, 0];
    target.encode(&mut req);
    stream.write_all(&req).await?;
    let mut head = [0u8; 4];
    stream.read_exact(&mut head).await?;
    if head[0] != VERSION {
        return Err(SocksError::Malformed);
    }
    if head[1] != 0 {
        return Err(SocksError::Refused(head[1]));
    }
    read_addr(stream, head[3]).await
}

async fn read_addr(stream: &mut TcpStream, atyp: u8) -> Result<SocketAddr, SocksError> {
    let ip = match atyp {
        ATYP_V4 => {
            let mut b = [0u8; 4];
            stream.read_exact(&mut b).await?;
            IpAddr::from(b)
        }
        ATYP_V6 => {
            let mut b = [0u8; 16];
            stream.read_exact(&mut b).await?;
            IpAddr::from(b)
        }
        ATYP_DOMAIN => {
            // A bound name is useless to us; skip it and let the caller fall back to the proxy IP.
            let len = stream.read_u8().await?;
            let mut b = vec![0u8; usize::from(len)];
            stream.read_exact(&mut b).await?;
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        }
        _ => return Err(SocksError::Malformed),
    };
    let port = stream.read_u16().await?;
    Ok(SocketAddr::new(ip, port))
}

/// A UDP association: datagrams to any target through the proxy, alive while `control` is open.
pub struct UdpAssociation {
    _control: TcpStream,
    socket: UdpSocket,
    relay: SocketAddr,
}

impl UdpAssociation {
    pub async fn open(proxy: SocketAddr) -> Result<Self, SocksError> {
        let local = match proxy {
            SocketAddr::V4(_) => SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            SocketAddr::V6(_) => SocketAddr::from((Ipv6Addr::LOCALHOST, 0)),
        };
        let socket = UdpSocket::bind(local).await?;
        let mut control = TcpStream::connect(proxy).await?;
        let from = socket.local_addr()?;
        let mut relay = request(&mut control, CMD_UDP_ASSOCIATE, &Target::Addr(from)).await?;
        if relay.ip().is_unspecified() {
            relay.set_ip(proxy.ip());
        }
        Ok(UdpAssociation {
            _control: control,
            socket,
            relay,
        })
    }

    pub async fn send_to(
        &self,
        payload: &[u8],
        target: impl Into<Target>,
    ) -> Result<(), SocksError> {
        let mut packet = vec![0, 0, 0];
        target.into().encode(&mut packet);
        packet.extend_from_slice(payload);
        self.socket.send_to(&packet, self.relay).await?;
        Ok(())
    }

    /// The next datagram and who sent it (as the proxy reports it).
    pub async fn recv_from(&self) -> Result<(Vec<u8>, SocketAddr), SocksError> {
        let mut buf = vec![0u8; MAX_DATAGRAM + 300];
        loop {
            let (n, from) = self.socket.recv_from(&mut buf).await?;
            if from.port() != self.relay.port() {
                continue;
            }
            return parse_udp(&buf[..n]);
        }
    }
}

fn parse_udp(p: &[u8]) -> Result<(Vec<u8>, SocketAddr), SocksError> {
    let header = p.get(..4).ok_or(SocksError::Malformed)?;
    if header[2] != 0 {
        return Err(SocksError::Malformed); // fragments are never produced by the peers we drive
    }
    let (ip, rest): (IpAddr, &[u8]) = match header[3] {
        ATYP_V4 => {
            let b: [u8; 4] = p
                .get(4..8)
                .ok_or(SocksError::Malformed)?
                .try_into()
                .map_err(|_| SocksError::Malformed)?;
            (IpAddr::from(b), &p[8..])
        }
        ATYP_V6 => {
            let b: [u8; 16] = p
                .get(4..20)
                .ok_or(SocksError::Malformed)?
                .try_into()
                .map_err(|_| SocksError::Malformed)?;
            (IpAddr::from(b), &p[20..])
        }
        ATYP_DOMAIN => {
            let len = usize::from(*p.get(4).ok_or(SocksError::Malformed)?);
            (
                IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                p.get(5 + len..).ok_or(SocksError::Malformed)?,
            )
        }
        _ => return Err(SocksError::Malformed),
    };
    let port = rest.get(..2).ok_or(SocksError::Malformed)?;
    let port = u16::from_be_bytes([port[0], port[1]]);
    Ok((rest[2..].to_vec(), SocketAddr::new(ip, port)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_encode_as_rfc_1928_addresses() {
        let mut v = Vec::new();
        Target::Addr("127.0.0.1:80".parse().unwrap()).encode(&mut v);
        assert_eq!(v, [1, 127, 0, 0, 1, 0, 80]);
        let mut v = Vec::new();
        Target::Domain("ab".into(), 443).encode(&mut v);
        assert_eq!(v, [3, 2, b'a', b'b', 1, 187]);
        let mut v = Vec::new();
        Target::Addr("[::1]:1".parse().unwrap()).encode(&mut v);
        assert_eq!(v.len(), 1 + 16 + 2);
    }

    #[test]
    fn udp_replies_yield_payload_and_sender() {
        let (data, from) = parse_udp(&[0, 0, 0, 1, 10, 0, 0, 1, 0, 53, b'h', b'i']).unwrap();
        assert_eq!(data, b"hi");
        assert_eq!(from, "10.0.0.1:53".parse().unwrap());
        assert!(matches!(
            parse_udp(&[0, 0, 0, 1, 10]),
            Err(SocksError::Malformed)
        ));
        assert!(matches!(
            parse_udp(&[0, 0, 1, 1, 10, 0, 0, 1, 0, 53]),
            Err(SocksError::Malformed)
        ));
    }
}
