//! Free loopback ports for processes that must be told their port before they start.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::sync::{Mutex, PoisonError};

/// A loopback port free for both TCP and UDP right now (a SOCKS inbound needs both), and never
/// one this process was handed before: the kernel may hand the same just-released port to two
/// binds in a row, which once gave a test's website and node the same port. Another process
/// could still take it before ours binds; that is rare.
pub fn free_port() -> u16 {
    static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    for _ in 0..1000 {
        let Ok(tcp) = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)) else {
            continue;
        };
        let Ok(addr) = tcp.local_addr() else { continue };
        if UdpSocket::bind(addr).is_err() {
            continue;
        }
        let mut handed_out = HANDED_OUT.lock().unwrap_or_else(PoisonError::into_inner);
        if handed_out.insert(addr.port()) {
            return addr.port();
        }
    }
    panic!("no free loopback port after 1000 tries");
}

/// `127.0.0.1:<free port>`.
pub fn free_tcp_addr() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_port_is_handed_out_twice() {
        let ports: Vec<u16> = (0..200).map(|_| free_port()).collect();
        let distinct: BTreeSet<u16> = ports.iter().copied().collect();
        assert_eq!(distinct.len(), ports.len());
    }

    #[test]
    fn a_free_port_can_be_bound_for_tcp_and_udp() {
        let addr = free_tcp_addr();
        assert!(addr.ip().is_loopback());
        let _tcp = TcpListener::bind(addr).unwrap();
        let _udp = UdpSocket::bind(addr).unwrap();
    }
}
