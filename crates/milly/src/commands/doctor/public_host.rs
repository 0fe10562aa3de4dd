//! `[node] public_host`, which every share link carries, must lead to this machine: it
//! resolves to one of its addresses. Behind NAT (this machine has no public address of its
//! own) a public address elsewhere is plausibly the router's, so that is only a warning.

use std::collections::HashSet;
use std::net::IpAddr;

use super::Finding;

const CHECK: &str = "public host";

pub async fn check(c: &config::Config) -> Vec<Finding> {
    if !c.node.enabled {
        return vec![Finding::skipped(
            CHECK,
            "the embedded node is off ([node] enabled)",
        )];
    }
    let host = c.node.public_host.trim();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let resolved: Vec<IpAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => match tokio::net::lookup_host((host, c.node.advertised_port())).await {
            Ok(addrs) => addrs.map(|a| a.ip()).collect(),
            Err(e) => {
                return vec![Finding::fail(
                    CHECK,
                    format!(
                        "[node] public_host {host} does not resolve ({e}); add a DNS record \
                         pointing at this machine or set its IP address"
                    ),
                )]
            }
        },
    };
    let local = match if_addrs::get_if_addrs() {
        Ok(addrs) => addrs.into_iter().map(|a| a.ip()).collect::<HashSet<_>>(),
        Err(e) => {
            return vec![Finding::warn(
                CHECK,
                format!("cannot list this machine's addresses ({e}); check {host} by hand"),
            )]
        }
    };
    vec![judge(host, &resolved, &local)]
}

fn judge(host: &str, resolved: &[IpAddr], local: &HashSet<IpAddr>) -> Finding {
    let shown = resolved
        .iter()
        .map(IpAddr::to_string)
        .collect::<Vec<_>>()
        .join(", ");
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
        assert_eq!(
            judge("vpn.example", &me, &here).status,
            super::super::Status::Ok
        );
        let other = ["198.51.99.1".parse().unwrap()];
        assert_eq!(
            judge("vpn.example", &other, &here).status,
            super::super::Status::Fail
        );
    }

    #[test]
    fn behind_nat_a_public_address_is_a_warning_and_a_private_one_a_failure() {
        let here = local(&["127.0.0.1", "10.0.0.5"]);
        let public = ["198.51.99.1".parse().unwrap()];
        assert_eq!(
            judge("vpn.example", &public, &here).status,
            super::super::Status::Warn
        );
        let private = ["10.0.0.9".parse().unwrap()];
        assert_eq!(
            judge("vpn.example", &private, &here).status,
            super::super::Status::Fail
        );
    }
}
