//! Safe egress: which destination addresses users may reach, checked after DNS resolution.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::net::{lookup_host, TcpStream};

mod dial;

pub(crate) use dial::{bind_any, bind_for, connect_out, dual_stack, resolve_out};

/// How long one connection attempt to a destination may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Resolved addresses tried for one destination before giving up.
const MAX_ATTEMPTS: usize = 4;
/// SMTP submission and relay ports, refused unless the operator allows them (spam).
pub const SMTP_PORTS: [u16; 3] = [25, 465, 587];

/// Why the node did not connect to a destination. Carries no address on purpose.
#[derive(Debug, thiserror::Error)]
pub enum EgressError {
    #[error("the destination is in a refused network")]
    Refused,
    #[error("the destination name did not resolve")]
    Unresolved,
    #[error("connecting to the destination failed: {0:?}")]
    Connect(io::ErrorKind),
}

/// A destination host as the client named it.
#[derive(Debug, Clone, Copy)]
pub enum Host<'a> {
    Ip(IpAddr),
    Name(&'a str),
}

/// Where users may go: public unicast addresses other than the node's own, or everything when
/// private destinations are allowed (tests and trusted setups); never SMTP ports unless
/// `allow_smtp`.
#[derive(Debug, Clone)]
pub struct EgressPolicy {
    pub allow_private: bool,
    pub own: Vec<IpAddr>,
    pub allow_smtp: bool,
}

/// Every address of this machine's interfaces (so a node listening on `0.0.0.0` still refuses
/// its own public address); empty when they cannot be listed.
pub fn local_addresses() -> Vec<IpAddr> {
    if_addrs::get_if_addrs()
        .map(|list| list.into_iter().map(|i| i.ip()).collect())
        .unwrap_or_default()
}

impl EgressPolicy {
    /// Whether users may reach `port` at all.
    pub fn permits_port(&self, port: u16) -> bool {
        self.allow_smtp || !SMTP_PORTS.contains(&port)
    }

    /// Whether the node may connect to `ip` for a user. `local` is the address the client
    /// reached the node on: one of the node's own, refused like `own`.
    pub fn permits(&self, ip: IpAddr, local: Option<IpAddr>) -> bool {
        if self.allow_private {
            return true;
        }
        let ip = canonical(ip);
        let own = Some(ip) == local.map(canonical) || self.own.iter().any(|o| canonical(*o) == ip);
        !own && is_public(ip)
    }

    /// Resolves `host` asynchronously and returns the permitted addresses, or
    /// [`EgressError::Refused`] when it only resolves to refused ones.
    pub async fn resolve(
        &self,
        host: Host<'_>,
        port: u16,
        local: Option<IpAddr>,
    ) -> Result<Vec<SocketAddr>, EgressError> {
        if !self.permits_port(port) {
            return Err(EgressError::Refused);
        }
        let resolved: Vec<SocketAddr> = match host {
            Host::Ip(ip) => vec![SocketAddr::new(ip, port)],
            Host::Name(name) => match name.parse::<IpAddr>() {
                Ok(ip) => vec![SocketAddr::new(ip, port)],
                Err(_) => lookup_host((name, port))
                    .await
                    .map_err(|_| EgressError::Unresolved)?
                    .collect(),
            },
        };
        if resolved.is_empty() {
            return Err(EgressError::Unresolved);
        }
        let permitted: Vec<SocketAddr> = resolved
            .into_iter()
            .filter(|a| self.permits(a.ip(), local))
            .collect();
        if permitted.is_empty() {
            return Err(EgressError::Refused);
        }
        Ok(permitted)
    }

    /// Opens a TCP connection to the first reachable permitted address of `host:port`.
    pub async fn connect(
        &self,
        host: Host<'_>,
        port: u16,
        local: Option<IpAddr>,
    ) -> Result<TcpStream, EgressError> {
        let addrs = self.resolve(host, port, local).await?;
        let mut last = io::ErrorKind::NotFound;
        for addr in addrs.into_iter().take(MAX_ATTEMPTS) {
            match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
                Ok(Ok(stream)) => {
                    let _ = stream.set_nodelay(true);
                    return Ok(stream);
                }
                Ok(Err(e)) => last = e.kind(),
                Err(_) => last = io::ErrorKind::TimedOut,
            }
        }
        Err(EgressError::Connect(last))
    }
}

/// IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// Whether `ip` is an ordinary public unicast address (not loopback, private, link-local,
/// unspecified, multicast, broadcast, CGNAT, benchmarking or reserved; no IPv6 address that
/// tunnels to an IPv4 one other than public NAT64).
pub fn is_public(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    let this_network = a == 0;
    let cgnat = a == 100 && (b & 0xc0) == 64;
    let benchmarking = a == 198 && (b & 0xfe) == 18;
    let reserved = a >= 240;
    !(this_network
        || benchmarking
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || cgnat
        || reserved)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    let unique_local = (first & 0xfe00) == 0xfc00;
    let link_local = (first & 0xffc0) == 0xfe80;
    let site_local = (first & 0xffc0) == 0xfec0;
    // NAT64 (64:ff9b::/96) reaches the IPv4 address in its last 32 bits.
    let nat64 = ip.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
    if nat64 {
        let [.., c, d] = ip.segments();
        let v4 = Ipv4Addr::from(((c as u32) << 16) | d as u32);
        return is_public_v4(v4);
    }
    // 6to4 (2002::/16) and Teredo (2001::/32) reach IPv4 networks through relays, and
    // IPv4-compatible ::a.b.c.d is deprecated: refused outright rather than decoded.
    let six_to_four = first == 0x2002;
    let teredo = first == 0x2001 && ip.segments()[1] == 0;
    let ipv4_compatible = ip.segments()[..6] == [0; 6];
    !(ip.is_loopback()
        || six_to_four
        || teredo
        || ipv4_compatible
        || ip.is_unspecified()
        || ip.is_multicast()
        || unique_local
        || link_local
        || site_local)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn strict() -> EgressPolicy {
        EgressPolicy {
            allow_private: false,
            own: vec![ip("203.0.113.7")],
            allow_smtp: false,
        }
    }

    #[test]
    fn loopback_private_link_local_and_cgnat_ipv4_addresses_are_not_public() {
        for s in [
            "127.0.0.1",
            "127.255.0.9",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "255.255.255.255",
            "100.64.0.1",
            "100.127.255.255",
            "240.0.0.1",
        ] {
            assert!(!is_public(ip(s)), "{s} must be refused");
        }
    }

    #[test]
    fn ordinary_ipv4_addresses_next_to_refused_ranges_are_public() {
        for s in [
            "1.1.1.1",
            "8.8.8.8",
            "172.32.0.1",
            "172.15.255.255",
            "100.63.255.255",
            "100.128.0.1",
            "11.0.0.1",
            "192.169.0.1",
        ] {
            assert!(is_public(ip(s)), "{s} must be allowed");
        }
    }

    #[test]
    fn loopback_unique_local_link_local_and_mapped_private_ipv6_addresses_are_not_public() {
        for s in [
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::a00:1",
        ] {
            assert!(!is_public(ip(s)), "{s} must be refused");
        }
    }

    #[test]
    fn global_ipv6_addresses_and_mapped_public_ipv4_addresses_are_public() {
        for s in [
            "2001:4860:4860::8888",
            "2a00:1450::1",
            "::ffff:1.1.1.1",
            "64:ff9b::808:808",
        ] {
            assert!(is_public(ip(s)), "{s} must be allowed");
        }
    }

    #[test]
    fn the_nodes_own_public_addresses_are_refused() {
        let policy = strict();
        assert!(!policy.permits(ip("203.0.113.7"), None));
        assert!(!policy.permits(ip("::ffff:203.0.113.7"), None));
        assert!(!policy.permits(ip("198.51.100.1"), Some(ip("198.51.100.1"))));
        assert!(policy.permits(ip("198.51.100.2"), Some(ip("198.51.100.1"))));
    }

    #[test]
    fn private_destinations_are_refused_unless_allowed() {
        assert!(!strict().permits(ip("192.168.0.10"), None));
        assert!(strict().permits(ip("1.1.1.1"), None));
        let open = EgressPolicy {
            allow_private: true,
            own: vec![],
            allow_smtp: false,
        };
        assert!(open.permits(ip("192.168.0.10"), None));
    }

    #[test]
    fn the_benchmarking_network_is_refused_but_its_neighbours_are_not() {
        for s in ["198.18.0.1", "198.19.255.254", "::ffff:198.18.3.4"] {
            assert!(!is_public(ip(s)), "{s} must be refused");
        }
        for s in ["198.17.255.255", "198.20.0.1"] {
            assert!(is_public(ip(s)), "{s} must be allowed");
        }
    }

    #[test]
    fn six_to_four_teredo_and_ipv4_compatible_ipv6_addresses_are_refused() {
        for s in [
            "2002:7f00:1::1",
            "2002:0101:0101::1",
            "2001:0:4136:e378::1",
            "::127.0.0.1",
            "::10.0.0.1",
            "::1.1.1.1",
        ] {
            assert!(!is_public(ip(s)), "{s} must be refused");
        }
        assert!(
            is_public(ip("2001:4860::1")),
            "2001:4860::/32 is not Teredo"
        );
    }

    #[tokio::test]
    async fn smtp_ports_are_refused_unless_allowed_even_to_private_destinations() {
        let mut open = EgressPolicy {
            allow_private: true,
            own: vec![],
            allow_smtp: false,
        };
        for port in SMTP_PORTS {
            let err = open.resolve(Host::Ip(ip("1.1.1.1")), port, None).await;
            assert!(matches!(err, Err(EgressError::Refused)), "port {port}");
        }
        assert!(open
            .resolve(Host::Ip(ip("1.1.1.1")), 2525, None)
            .await
            .is_ok());
        open.allow_smtp = true;
        assert!(open
            .resolve(Host::Ip(ip("1.1.1.1")), 25, None)
            .await
            .is_ok());
    }

    #[test]
    fn this_machines_interface_addresses_are_listed_and_refused_as_own() {
        let local = local_addresses();
        assert!(
            local.iter().any(|a| a.is_loopback()),
            "the loopback interface is listed: {local:?}"
        );
        let policy = EgressPolicy {
            allow_private: false,
            own: local.clone(),
            allow_smtp: false,
        };
        for a in local {
            assert!(!policy.permits(a, None), "{a} is this machine's");
        }
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_loopback_is_refused() {
        let err = strict()
            .resolve(Host::Name("localhost"), 80, None)
            .await
            .unwrap_err();
        assert!(matches!(err, EgressError::Refused));
    }

    #[tokio::test]
    async fn an_ip_literal_is_checked_without_resolution() {
        let err = strict()
            .resolve(Host::Name("10.0.0.1"), 80, None)
            .await
            .unwrap_err();
        assert!(matches!(err, EgressError::Refused));
        let ok = strict()
            .resolve(Host::Ip(ip("1.1.1.1")), 443, None)
            .await
            .unwrap();
        assert_eq!(ok, vec!["1.1.1.1:443".parse().unwrap()]);
    }
}
