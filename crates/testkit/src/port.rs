//! Free loopback ports for processes that must be told their port before they start.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};

/// A loopback port free for both TCP and UDP right now (a SOCKS inbound needs both). Another
/// process could take it before ours binds; the OS hands out ports round-robin, so that is rare.
pub fn free_port() -> u16 {
    for _ in 0..100 {
        let Ok(tcp) = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)) else {
            continue;
        };
        let Ok(addr) = tcp.local_addr() else { continue };
        if UdpSocket::bind(addr).is_ok() {
            return addr.port();
        }
    }
    panic!("no free loopback port after 100 tries");
}

/// `127.0.0.1:<free port>`.
pub fn free_tcp_addr() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_free_port_can_be_bound_for_tcp_and_udp() {
        let addr = free_tcp_addr();
        assert!(addr.ip().is_loopback());
        let _tcp = TcpListener::bind(addr).unwrap();
        let _udp = UdpSocket::bind(addr).unwrap();
    }
}
