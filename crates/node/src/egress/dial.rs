//! Connecting out for users under the egress policy: TCP within the connect limits, resolved
//! UDP targets, the UDP sockets that reach them, and how a refusal or failure is counted.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::Semaphore;
use vless::{Address, Destination};

use super::{EgressError, Host};
use crate::metrics::HandshakeFailure;
use crate::server::Shared;

/// Connects to `destination` for a user who holds a socket lease for it, within the node-wide
/// limit of connects in flight (and the connection's own, for Mux). `None` when refused or
/// failed (counted).
pub(crate) async fn connect_out(
    destination: &Destination,
    local: Option<IpAddr>,
    per_connection: Option<&Semaphore>,
    shared: &Shared,
) -> Option<TcpStream> {
    let _mine = match per_connection {
        Some(limit) => Some(limit.acquire().await.ok()?),
        None => None,
    };
    let _node = shared.connects.acquire().await.ok()?;
    match shared
        .egress()
        .connect(host(destination), destination.port, local)
        .await
    {
        Ok(remote) => Some(remote),
        Err(e) => {
            shared.metrics.failure(egress_failure(&e));
            None
        }
    }
}

fn host(destination: &Destination) -> Host<'_> {
    match &destination.address {
        Address::Ipv4(ip) => Host::Ip(IpAddr::V4(*ip)),
        Address::Ipv6(ip) => Host::Ip(IpAddr::V6(*ip)),
        Address::Domain(name) => Host::Name(name),
    }
}

fn egress_failure(e: &EgressError) -> HandshakeFailure {
    match e {
        EgressError::Refused => HandshakeFailure::EgressRefused,
        EgressError::Unresolved | EgressError::Connect(_) => HandshakeFailure::ConnectFailed,
    }
}

/// The permitted addresses of `destination` for a UDP session, first preferred. `None` when
/// refused or unresolved (counted).
pub(crate) async fn resolve_out(
    destination: &Destination,
    local: Option<IpAddr>,
    shared: &Shared,
) -> Option<Vec<SocketAddr>> {
    match shared
        .egress()
        .resolve(host(destination), destination.port, local)
        .await
    {
        Ok(addrs) => Some(addrs),
        Err(e) => {
            shared.metrics.failure(egress_failure(&e));
            None
        }
    }
}

/// A UDP socket on an ephemeral port of the destination's address family.
pub(crate) async fn bind_for(target: SocketAddr) -> io::Result<UdpSocket> {
    let any: SocketAddr = match target {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    UdpSocket::bind(any).await
}

/// A UDP socket that reaches IPv4 and IPv6 peers (`true`), or IPv4 only where IPv6 is
/// unavailable (`false`).
pub(crate) async fn bind_any() -> io::Result<(UdpSocket, bool)> {
    match UdpSocket::bind((Ipv6Addr::UNSPECIFIED, 0)).await {
        Ok(socket) => Ok((socket, true)),
        Err(_) => Ok((UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).await?, false)),
    }
}

/// IPv4 peers are addressed as IPv4-mapped IPv6 on a dual-stack socket.
pub(crate) fn dual_stack(addr: SocketAddr) -> SocketAddr {
    match addr {
        SocketAddr::V4(v4) => SocketAddr::new(IpAddr::V6(v4.ip().to_ipv6_mapped()), v4.port()),
        v6 => v6,
    }
}
