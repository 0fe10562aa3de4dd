//! `--forward LOCAL=HOST:PORT`: a local port whose every connection goes to one destination.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::str::FromStr;

use vless::{Address, Destination};

/// One forwarded port. `LOCAL` is `PORT` (on 127.0.0.1) or `IP:PORT`; `HOST` a name or an IP
/// (IPv6 in brackets).
#[derive(Clone, PartialEq, Eq)]
pub struct Forward {
    pub listen: SocketAddr,
    pub destination: Destination,
}

impl std::fmt::Debug for Forward {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forward")
            .field("listen", &self.listen)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForwardError {
    #[error("a forward is LOCAL=HOST:PORT, e.g. 8080=example.com:80")]
    NoEquals,
    #[error("LOCAL must be a port or IP:PORT")]
    BadLocal,
    #[error("the destination must be HOST:PORT with a port from 1 to 65535")]
    BadDestination,
}

impl FromStr for Forward {
    type Err = ForwardError;

    fn from_str(s: &str) -> Result<Self, ForwardError> {
        let (local, remote) = s.split_once('=').ok_or(ForwardError::NoEquals)?;
        let listen = match local.parse::<u16>() {
            Ok(port) => SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
            Err(_) => local.parse().map_err(|_| ForwardError::BadLocal)?,
        };
        let (host, port) = if let Some(inner) = remote.strip_prefix('[') {
            let (host, after) = inner.split_once("]:").ok_or(ForwardError::BadDestination)?;
            (host, after)
        } else {
            remote
                .rsplit_once(':')
                .ok_or(ForwardError::BadDestination)?
        };
        let port: u16 = port.parse().map_err(|_| ForwardError::BadDestination)?;
        if port == 0 {
            return Err(ForwardError::BadDestination);
        }
        let address = Address::domain(host).map_err(|_| ForwardError::BadDestination)?;
        Ok(Forward {
            listen,
            destination: Destination { address, port },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    #[test]
    fn a_bare_local_port_listens_on_loopback() {
        let f: Forward = "8080=example.com:80".parse().unwrap();
        assert_eq!(f.listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(f.destination.address, Address::Domain("example.com".into()));
        assert_eq!(f.destination.port, 80);
    }

    #[test]
    fn ip_literals_on_either_side_are_addresses() {
        let f: Forward = "[::1]:5353=[2001:db8::1]:53".parse().unwrap();
        assert_eq!(f.listen, "[::1]:5353".parse().unwrap());
        assert_eq!(
            f.destination.address,
            Address::Ipv6("2001:db8::1".parse::<Ipv6Addr>().unwrap())
        );
        let f: Forward = "127.0.0.2:1=10.0.0.1:22".parse().unwrap();
        assert_eq!(
            f.destination.address,
            Address::Ipv4(Ipv4Addr::new(10, 0, 0, 1))
        );
    }

    #[test]
    fn malformed_forwards_say_what_is_wrong() {
        assert_eq!("8080".parse::<Forward>(), Err(ForwardError::NoEquals));
        assert_eq!("x=h:1".parse::<Forward>(), Err(ForwardError::BadLocal));
        assert_eq!("1=h".parse::<Forward>(), Err(ForwardError::BadDestination));
        assert_eq!(
            "1=h:0".parse::<Forward>(),
            Err(ForwardError::BadDestination)
        );
        assert_eq!(
            "1=bad host:1".parse::<Forward>(),
            Err(ForwardError::BadDestination)
        );
    }
}
