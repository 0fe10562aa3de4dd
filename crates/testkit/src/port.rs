//! Free loopback ports for processes that must be told their port before they start.
//!
//! A port is handed out, then bound later by another process: in between, anything on the
//! machine that binds or connects may take it. Ports the kernel picks for outgoing connections
//! and `:0` binds come from its ephemeral range, so ports are handed out from below that range,
//! where nothing takes a port unless it names it.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::ops::Range;
use std::sync::{Mutex, PoisonError};

/// Where hand-picked ports start: above the well-known and most registered services' ports.
const LOWEST: u16 = 10_000;
/// Linux's default ephemeral range starts here; used when `/proc` cannot say.
const DEFAULT_EPHEMERAL_START: u16 = 32_768;

/// A loopback port free for both TCP and UDP right now (a SOCKS inbound needs both), never one
/// this process was handed before, and outside the kernel's ephemeral range, so no outgoing
/// connection or `:0` bind takes it before the process it is meant for binds it.
pub fn free_port() -> u16 {
    // The next candidate; starts at a random place so processes running at once rarely meet.
    static NEXT: Mutex<Option<u16>> = Mutex::new(None);
    let range = handed_out_range();
    let span = range.end - range.start;
    let mut next = NEXT.lock().unwrap_or_else(PoisonError::into_inner);
    for _ in 0..span {
        let candidate = match *next {
            Some(port) => port,
            None => range.start + random_u16() % span,
        };
        *next = Some(if candidate + 1 >= range.end {
            range.start
        } else {
            candidate + 1
        });
        if bindable(candidate) {
            return candidate;
        }
    }
    panic!("no free loopback port in {range:?}");
}

/// The ports below the kernel's ephemeral range that this module hands out.
fn handed_out_range() -> Range<u16> {
    let ephemeral_start = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(DEFAULT_EPHEMERAL_START);
    assert!(
        ephemeral_start > LOWEST + 1_000,
        "the ephemeral port range starts at {ephemeral_start}: too low to leave test ports below it"
    );
    LOWEST..ephemeral_start
}

fn bindable(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpListener::bind(addr).is_ok() && UdpSocket::bind(addr).is_ok()
}

fn random_u16() -> u16 {
    let mut bytes = [0u8; 2];
    getrandom::fill(&mut bytes).unwrap_or_else(|e| panic!("getrandom: {e}"));
    u16::from_le_bytes(bytes)
}

/// `127.0.0.1:<free port>`.
pub fn free_tcp_addr() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn no_port_is_handed_out_twice() {
        let ports: Vec<u16> = (0..200).map(|_| free_port()).collect();
        let distinct: BTreeSet<u16> = ports.iter().copied().collect();
        assert_eq!(distinct.len(), ports.len());
    }

    #[test]
    fn ports_come_from_below_the_ephemeral_range() {
        let range = handed_out_range();
        for _ in 0..50 {
            assert!(range.contains(&free_port()));
        }
    }

    #[test]
    fn a_free_port_can_be_bound_for_tcp_and_udp() {
        let addr = free_tcp_addr();
        assert!(addr.ip().is_loopback());
        let _tcp = TcpListener::bind(addr).unwrap();
        let _udp = UdpSocket::bind(addr).unwrap();
    }
}
