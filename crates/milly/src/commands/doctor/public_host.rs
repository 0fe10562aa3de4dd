//! `[node] public_host`, which every share link carries, must lead to this machine: it
//! resolves to one of its addresses. Behind NAT (this machine has no public address of its
//! own) a public address elsewhere is plausibly the router's, so that is only a warning.
//! The host of `[service] public_url` is checked the same way, but only ever warned about: a
//! CDN or a reverse proxy on another machine legitimately stands there.

use std::collections::HashSet;
use std::net::IpAddr;

use super::{Finding, Status};

const CHECK: &str = "public host";
const SITE_CHECK: &str = "public url host";

pub async fn check(c: &config::Config) -> Vec<Finding> {
    let local = match if_addrs::get_if_addrs() {
        Ok(addrs) => addrs.into_iter().map(|a| a.ip()).collect::<HashSet<_>>(),
        Err(e) => {
            return vec![Finding::warn(
                CHECK,
                format!("cannot list this machine's addresses ({e}); check DNS by hand"),
            )]
        }
    };
    let node = if c.node.enabled {
        let host = c.node.public_host.trim();
        let host = host.trim_start_matches('[').trim_end_matches(']');
        match resolve(host, c.node.advertised_port()).await {
            Ok(resolved) => judge(host, &resolved, &local),
            Err(e) => Finding::fail(
                CHECK,
                format!(
                    "[node] public_host {host} does not resolve ({e}); add a DNS record \
                     pointing at this machine or set its IP address"
                ),
            ),
        }
    } else {
        Finding::skipped(CHECK, "the embedded node is off ([node] enabled)")
    };
    let site_host = c.service.public_url.host();
    let site_host = site_host.trim_start_matches('[').trim_end_matches(']');
    let site = match resolve(site_host, 443).await {
        Ok(resolved) => {
            let mut finding = judge(site_host, &resolved, &local);
            finding.check = SITE_CHECK.into();
            if finding.status == Status::Fail || finding.status == Status::Warn {
                finding.status = Status::Warn;
                finding.message = format!(
                    "{site_host} ({}) is not this machine: fine behind a CDN or a reverse \
                     proxy elsewhere; otherwise point its DNS record here",
                    list(&resolved)
                );
            }
            finding
        }
        Err(e) => Finding::fail(
            SITE_CHECK,
            format!(
                "[service] public_url's host {site_host} does not resolve ({e}); add its DNS \
                 record"
            ),
        ),
    };
    vec![node, site]
}

async fn resolve(host: &str, port: u16) -> std::io::Result<Vec<IpAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    Ok(tokio::net::lookup_host((host, port))
        .await?
        .map(|a| a.ip())
        .collect())
}

fn list(resolved: &[IpAddr]) -> String {
    resolved
        .iter()
        .map(IpAddr::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn judge(host: &str, resolved: &[IpAddr], local: &HashSet<IpAddr>) -> Finding {
    let shown = list(resolved);
    if resolved.iter().any(|ip| local.contains(ip)) {
        return Finding::ok(CHECK, format!("{host} is this machine ({shown})"));
    }
    let behind_nat = !local.iter().any(|ip| is_public(*ip));
    if behind_nat && resolved.iter().any(|ip| is_public(*ip)) {
        return Finding::warn(
            CHECK,
            format!(
                "{host} ({shown}) is not an address of this machine, which has only private \
                 addresses: fine if it is your router's public address forwarding to it; \
                 otherwise fix the DNS record or [node] public_host"
            ),
        );
    }
    Finding::fail(
        CHECK,
        format!(
            "{host} ({shown}) is not an address of this machine, so clients would connect \
             elsewhere; point the DNS record at this machine or set [node] public_host to one \
             of its addresses"
        ),
    )
}

/// An address reachable from the internet: not loopback, private, link-local, CGNAT,
/// documentation or unique-local.
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_documentation()
                || v4.is_broadcast()
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0xdb8)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(ips: &[&str]) -> HashSet<IpAddr> {
        ips.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn a_local_address_passes_and_a_foreign_one_fails_on_a_machine_with_a_public_address() {
        let here = local(&["127.0.0.1", "203.0.114.7"]);
        let me = ["203.0.114.7".parse().unwrap()];
        assert_eq!(judge("vpn.example", &me, &here).status, Status::Ok);
        let other = ["198.51.99.1".parse().unwrap()];
        assert_eq!(judge("vpn.example", &other, &here).status, Status::Fail);
    }

    #[test]
    fn behind_nat_a_public_address_is_a_warning_and_a_private_one_a_failure() {
        let here = local(&["127.0.0.1", "10.0.0.5"]);
        let public = ["198.51.99.1".parse().unwrap()];
        assert_eq!(judge("vpn.example", &public, &here).status, Status::Warn);
        let private = ["10.0.0.9".parse().unwrap()];
        assert_eq!(judge("vpn.example", &private, &here).status, Status::Fail);
    }
}
