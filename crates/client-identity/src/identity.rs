//! The one decision of who a request comes from.

use std::net::IpAddr;
use std::sync::Arc;

use http::HeaderMap;

use crate::{ClientKey, ForwardedHeader, IpNetwork};

/// At most this many forwarded hops are walked: more trusted proxies than this in a row is not a
/// real deployment, and the walk stays cheap whatever a header holds.
const MAX_HOPS: usize = 16;

/// Decides who a request comes from. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct ClientIdentity {
    trusted: Arc<[IpNetwork]>,
    header: ForwardedHeader,
}

impl ClientIdentity {
    /// No trusted proxies: the connection's address is the client, headers are ignored.
    pub fn direct() -> Self {
        Self::default()
    }

    /// Believes `header` only on connections from `trusted` proxies.
    pub fn new(trusted: Vec<IpNetwork>, header: ForwardedHeader) -> Self {
        Self {
            trusted: trusted.into(),
            header,
        }
    }

    /// Whether `ip` is one of the trusted proxies (whose forwarded header is believed).
    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|n| n.contains(ip))
    }

    /// Who sent a request that arrived over a connection from `peer` (the TCP peer, or the source
    /// a PROXY protocol header named) with `headers`: `peer` itself unless it is a trusted proxy;
    /// then the nearest hop of the forwarded header that is not a trusted proxy. An entry that is
    /// not an address ends the walk at the last trusted hop, so garbage never names a client.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.trusts(client) {
            return client;
        }
        for hop in self.header.hops_nearest_first(headers).take(MAX_HOPS) {
            match hop {
                Some(ip) => {
                    client = ip.to_canonical();
                    if !self.trusts(client) {
                        return client;
                    }
                }
                None => return client,
            }
        }
        client
    }

    /// [`Self::client`] as a rate-limiting key (IPv6 by /64).
    pub fn key(&self, peer: IpAddr, headers: &HeaderMap) -> ClientKey {
        ClientKey::of(self.client(peer, headers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", value.parse().unwrap());
        h
    }

    fn behind(proxies: &[&str]) -> ClientIdentity {
        ClientIdentity::new(
            proxies.iter().map(|p| p.parse().unwrap()).collect(),
            ForwardedHeader::default(),
        )
    }

    #[test]
    fn a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored() {
        let h = xff("192.0.2.1");
        assert_eq!(
            ClientIdentity::direct().client(ip("203.0.113.9"), &h),
            ip("203.0.113.9")
        );
        let id = behind(&["10.0.0.0/8"]);
        assert_eq!(id.client(ip("203.0.113.9"), &h), ip("203.0.113.9"));
    }

    #[test]
    fn behind_trusted_proxies_the_nearest_untrusted_hop_is_the_client() {
        let id = behind(&["10.0.0.0/8", "::1"]);
        // The client claimed 198.51.100.7; the outer proxy saw 203.0.113.5; the inner one saw
        // the outer proxy 10.0.0.2.
        let h = xff("198.51.100.7, 203.0.113.5, 10.0.0.2");
        assert_eq!(id.client(ip("10.0.0.1"), &h), ip("203.0.113.5"));
        assert_eq!(id.client(ip("::1"), &h), ip("203.0.113.5"));
    }

    #[test]
    fn a_trusted_proxy_without_a_header_is_its_own_client() {
        let id = behind(&["127.0.0.0/8"]);
        assert_eq!(
            id.client(ip("127.0.0.1"), &HeaderMap::new()),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn garbage_in_the_header_stops_at_the_last_trusted_hop() {
        let id = behind(&["10.0.0.0/8"]);
        let h = xff("198.51.100.7, not-an-address, 10.0.0.3");
        assert_eq!(id.client(ip("10.0.0.1"), &h), ip("10.0.0.3"));
    }

    #[test]
    fn ipv6_clients_behind_a_proxy_are_keyed_by_their_slash_64() {
        let id = behind(&["10.0.0.0/8"]);
        let a = id.key(ip("10.0.0.1"), &xff("2001:db8:1:1::a"));
        let b = id.key(ip("10.0.0.1"), &xff("2001:db8:1:1::b"));
        let c = id.key(ip("10.0.0.1"), &xff("2001:db8:1:2::a"));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
