//! Where a notification may come from: YooKassa's published sender networks, checked against
//! the connecting address, or against a forwarded-for header set by a trusted reverse proxy.
//! Addresses are compared and forgotten, never logged.

use std::net::IpAddr;
use std::str::FromStr;

use axum::http::HeaderMap;

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

/// An address block, `a.b.c.d/n` or `x::/n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an address block such as 185.71.76.0/27")]
pub struct BadNetwork(String);

impl FromStr for Network {
    type Err = BadNetwork;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadNetwork(s.to_owned());
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr.trim().parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.trim().parse::<u8>().map_err(|_| bad())?,
            None => max,
        };
        if prefix > max {
            return Err(bad());
        }
        Ok(Network { addr, prefix })
    }
}

impl Network {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// How the webhook decides whether a request comes from YooKassa.
#[derive(Debug, Clone)]
pub struct SourcePolicy {
    /// Off only when something in front already guarantees the sender (proposed config key
    /// `[yookassa] check_source_ip`, default on).
    pub check: bool,
    /// Networks allowed to send notifications: YooKassa's by default.
    pub allowed: Vec<Network>,
    /// A header such as `X-Forwarded-For` set by a reverse proxy on this host: when set, the
    /// sender is its last entry (what the proxy saw), and only if the connection itself comes
    /// from loopback (proposed config key `[yookassa] trusted_proxy_header`, default empty).
    pub trusted_proxy_header: Option<String>,
}

impl Default for SourcePolicy {
    fn default() -> Self {
        Self {
            check: true,
            allowed: yookassa_networks(),
            trusted_proxy_header: None,
        }
    }
}

/// [`YOOKASSA_NETWORKS`] parsed.
pub fn yookassa_networks() -> Vec<Network> {
    YOOKASSA_NETWORKS
        .iter()
        .filter_map(|n| n.parse().ok())
        .collect()
}

impl SourcePolicy {
    /// YooKassa's networks, with or without the check, and a trusted proxy header if not empty.
    pub fn new(check: bool, trusted_proxy_header: &str) -> Self {
        let header = trusted_proxy_header.trim();
        Self {
            check,
            allowed: yookassa_networks(),
            trusted_proxy_header: (!header.is_empty()).then(|| header.to_ascii_lowercase()),
        }
    }

    /// Whether a request from `peer` with `headers` may be a YooKassa notification.
    pub fn admits(&self, peer: IpAddr, headers: &HeaderMap) -> bool {
        if !self.check {
            return true;
        }
        self.sender(peer, headers)
            .is_some_and(|ip| self.allowed.iter().any(|n| n.contains(ip)))
    }

    /// The address that sent the request: the peer, or what a trusted local proxy reports.
    fn sender(&self, peer: IpAddr, headers: &HeaderMap) -> Option<IpAddr> {
        let Some(name) = &self.trusted_proxy_header else {
            return Some(peer);
        };
        if !peer.to_canonical().is_loopback() {
            // Only a proxy on this host is trusted to say who connected.
            return None;
        }
        let value = headers.get(name.as_str())?.to_str().ok()?;
        let last = value.rsplit(',').next()?.trim();
        last.parse().ok()
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
    fn turning_the_check_off_admits_anyone() {
        let p = SourcePolicy::new(false, "");
        assert!(p.admits(ip("127.0.0.1"), &HeaderMap::new()));
    }

    #[test]
    fn malformed_networks_are_refused() {
        assert!("10.0.0.0/33".parse::<Network>().is_err());
        assert!("nonsense".parse::<Network>().is_err());
        assert!("10.0.0.0/0"
            .parse::<Network>()
            .unwrap()
            .contains(ip("8.8.8.8")));
    }
}
