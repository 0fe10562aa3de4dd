//! Where a notification may come from: YooKassa's published sender networks, checked against
//! the sender as `client_identity` decides it (the connection's address, or a trusted reverse
//! proxy's forwarded header). Addresses are compared and forgotten, never logged.

use std::net::IpAddr;

use client_identity::{ClientIdentity, ForwardedHeader, IpNetwork};
use http::HeaderMap;

/// YooKassa's notification senders, as published in its "Incoming notifications" guide
/// (yookassa.ru/developers/using-api/webhooks).
pub const YOOKASSA_NETWORKS: &[&str] = &[
    "185.71.76.0/27",
    "185.71.77.0/27",
    "77.75.153.0/25",
    "77.75.156.11/32",
    "77.75.156.35/32",
    "77.75.154.128/25",
    "2a02:5180::/32",
];

/// How the webhook decides whether a request comes from YooKassa.
#[derive(Debug, Clone)]
pub struct SourcePolicy {
    /// Off only when something in front already guarantees the sender (`[yookassa]
    /// check_source_ip`, default on).
    pub check: bool,
    /// Networks allowed to send notifications: YooKassa's by default.
    pub allowed: Vec<IpNetwork>,
    /// Who a request comes from: the same decision every rate limit uses.
    pub identity: ClientIdentity,
}

impl Default for SourcePolicy {
    fn default() -> Self {
        Self::with_identity(true, ClientIdentity::direct())
    }
}

/// [`YOOKASSA_NETWORKS`] parsed.
pub fn yookassa_networks() -> Vec<IpNetwork> {
    YOOKASSA_NETWORKS
        .iter()
        .filter_map(|n| n.parse().ok())
        .collect()
}

impl SourcePolicy {
    /// YooKassa's networks, with or without the check, the sender decided by `identity`
    /// (`config::Config::client_identity`).
    pub fn with_identity(check: bool, identity: ClientIdentity) -> Self {
        Self {
            check,
            allowed: yookassa_networks(),
            identity,
        }
    }

    /// The older form: a header (such as `X-Forwarded-For`) a reverse proxy on this host sets,
    /// believed only from loopback; empty = the connection's address is the sender. A header
    /// name that is not one is ignored (nothing is believed).
    pub fn new(check: bool, trusted_proxy_header: &str) -> Self {
        let identity = match trusted_proxy_header.trim().parse::<ForwardedHeader>() {
            Ok(header) if !trusted_proxy_header.trim().is_empty() => {
                ClientIdentity::new(IpNetwork::loopback().to_vec(), header)
            }
            _ => ClientIdentity::direct(),
        };
        Self::with_identity(check, identity)
    }

    /// Whether a request from `peer` with `headers` may be a YooKassa notification.
    pub fn admits(&self, peer: IpAddr, headers: &HeaderMap) -> bool {
        if !self.check {
            return true;
        }
        let sender = self.identity.client(peer, headers);
        self.allowed.iter().any(|n| n.contains(sender))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn yookassa_senders_are_admitted_and_others_are_not() {
        let p = SourcePolicy::default();
        let h = HeaderMap::new();
        assert_eq!(p.allowed.len(), YOOKASSA_NETWORKS.len());
        for ok in [
            "185.71.76.5",
            "185.71.77.31",
            "77.75.153.127",
            "77.75.156.11",
            "77.75.154.200",
            "2a02:5180:1::1",
            "::ffff:185.71.76.1",
        ] {
            assert!(p.admits(ip(ok), &h), "{ok}");
        }
        for no in [
            "185.71.76.32",
            "77.75.156.12",
            "77.75.154.127",
            "127.0.0.1",
            "2a02:5181::1",
            "10.0.0.1",
        ] {
            assert!(!p.admits(ip(no), &h), "{no}");
        }
    }

    #[test]
    fn a_forwarded_header_counts_only_from_a_local_proxy() {
        let p = SourcePolicy::new(true, "X-Forwarded-For");
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "1.2.3.4, 185.71.76.9".parse().unwrap());
        assert!(p.admits(ip("127.0.0.1"), &h));
        assert!(
            !p.admits(ip("203.0.113.9"), &h),
            "a remote client cannot claim to be a proxy"
        );
        h.insert("x-forwarded-for", "185.71.76.9, 1.2.3.4".parse().unwrap());
        assert!(
            !p.admits(ip("127.0.0.1"), &h),
            "only the entry the proxy added counts"
        );
        assert!(!p.admits(ip("127.0.0.1"), &HeaderMap::new()));
    }

    #[test]
    fn behind_configured_proxies_the_sender_is_what_they_saw() {
        let identity = ClientIdentity::new(
            vec!["10.0.0.0/8".parse().unwrap()],
            ForwardedHeader::default(),
        );
        let p = SourcePolicy::with_identity(true, identity);
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "185.71.76.9".parse().unwrap());
        assert!(p.admits(ip("10.0.0.1"), &h));
        assert!(!p.admits(ip("203.0.113.9"), &h), "spoofed from outside");
        assert!(
            !p.admits(ip("127.0.0.1"), &h),
            "loopback is not trusted unless configured"
        );
    }

    #[test]
    fn turning_the_check_off_admits_anyone() {
        let p = SourcePolicy::new(false, "");
        assert!(p.admits(ip("127.0.0.1"), &HeaderMap::new()));
    }
}
