//! The checks every third-party client (sing-box, v2ray) runs through a VLESS server, written
//! once: byte-exact TCP both ways with the half-close, UDP datagrams of every size, a stranger's
//! id reaching nothing, and a user blocked mid-connection cut within a second while others keep
//! theirs.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use client::ClientLink;

use crate::echo::{EchoMode, TcpEcho, UdpEcho};
use crate::milly::Node;
use crate::peer::{Peer, PeerKind};
use crate::singbox::{ClientOptions, PacketEncoding};
use crate::socks;
use crate::traffic::{self, TrafficError};

/// A user id no one was given.
pub const STRANGER: &str = "0e0e0e0e-0000-4000-8000-0e0e0e0e0e0e";
/// The issue allows 1 s from the store change; the rest is the client noticing the cut.
pub const CUT_DEADLINE: Duration = Duration::from_millis(1500);
const MIB: usize = 1024 * 1024;
/// Between pings of a connection that should stay open.
const PING: Duration = Duration::from_millis(20);

/// The `kind` peer's binary and a fresh TLS `milly serve` to run it against, or `None` when the
/// peer is not installed and the test is skipped (see [`PeerKind::require`]).
pub async fn peer_and_node(kind: PeerKind) -> Option<(PathBuf, Node)> {
    let bin = kind.require()?;
    Some((bin, Node::start("").await.expect("milly serve")))
}

/// A `kind` client for `link` as an app that imported the link runs it: default options (for
/// sing-box, UDP as XUDP).
pub async fn client(kind: PeerKind, bin: &Path, link: &ClientLink) -> Peer {
    Peer::client(kind, bin, link, &ClientOptions::default())
        .await
        .expect("a client")
}

/// Four concurrent 1 MiB round trips through the `kind` client at `socks`, then one to an echo
/// that answers only after the client's EOF (the server must carry the half-close and keep the
/// way back open). The echo of the four, for checks of what was logged.
pub async fn tcp_checks(kind: PeerKind, socks: SocketAddr) -> TcpEcho {
    let echo = TcpEcho::start(EchoMode::Stream).await.expect("an echo");
    traffic::tcp_roundtrips(socks, echo.addr(), 4, MIB)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", kind.name()));
    assert_eq!(echo.accepted(), 4);
    let after_eof = TcpEcho::start(EchoMode::AfterEof).await.expect("an echo");
    traffic::tcp_roundtrip_after_eof(kind, socks, after_eof.addr(), 256 * 1024)
        .await
        .unwrap_or_else(|e| panic!("{} after EOF: {e}", kind.name()));
    echo
}

/// Datagrams of every size the `kind` client relays whole, through a client for `link`, to a
/// UDP echo and back unchanged: for sing-box both as XUDP and as plain VLESS UDP, for the others
/// the way they carry UDP on their own.
pub async fn udp_checks(kind: PeerKind, bin: &Path, link: &ClientLink) {
    let encodings: &[PacketEncoding] = match kind {
        PeerKind::SingBox => &[PacketEncoding::Xudp, PacketEncoding::Plain],
        PeerKind::V2Ray | PeerKind::Xray => &[PacketEncoding::Xudp],
    };
    let echo = UdpEcho::start().await.expect("an echo");
    for &packet_encoding in encodings {
        let options = ClientOptions {
            packet_encoding,
            ..Default::default()
        };
        let client = Peer::client(kind, bin, link, &options)
            .await
            .expect("a client");
        traffic::udp_roundtrips(client.addr(), echo.addr(), &traffic::udp_sizes_for(kind))
            .await
            .unwrap_or_else(|e| panic!("{} {packet_encoding:?}: {e}", kind.name()));
    }
}

/// A `kind` client whose id the server does not know reaches nothing: no bytes come back and
/// the destination never sees a connection.
pub async fn stranger_reaches_nothing(stranger: &Peer, echo: &TcpEcho) {
    let result = traffic::tcp_roundtrip(stranger.addr(), echo.addr(), b"let me in").await;
    assert!(result.is_err(), "a stranger was proxied");
    assert_eq!(echo.accepted(), 0, "a stranger reached the destination");
}

/// Two users of `node` with `kind` clients, each holding a connection; `milly user block`
/// for the first cuts it within [`CUT_DEADLINE`], the other keeps its session, and the
/// blocked user cannot open a new one.
pub async fn blocked_user_is_cut(node: &Node, kind: PeerKind, bin: &Path, ids: (i64, i64)) {
    let (blocked_id, other_id) = ids;
    let options = ClientOptions::default();
    let mut clients = Vec::new();
    for id in [blocked_id, other_id] {
        let link = node.add_user(id).await.expect("a new user");
        let client = Peer::client(kind, bin, &link, &options)
            .await
            .expect("a client");
        clients.push(client);
    }
    let (blocked, other) = (&clients[0], &clients[1]);
    let echo = TcpEcho::start(EchoMode::Stream).await.expect("an echo");
    let mut blocked_conn = socks::connect(blocked.addr(), echo.addr())
        .await
        .expect("a connection");
    let mut other_conn = socks::connect(other.addr(), echo.addr())
        .await
        .expect("a connection");
    for conn in [&mut blocked_conn, &mut other_conn] {
        let alive = traffic::time_until_cut(conn, PING, Duration::from_millis(300)).await;
        assert!(matches!(alive, Err(TrafficError::NotCut(_))), "{alive:?}");
    }

    let id = blocked_id.to_string();
    tokio::task::block_in_place(|| node.home.run(&["user", "block", &id]))
        .expect("milly user block");
    // time_until_cut starts counting now: the store has changed once the command returned.
    let cut = traffic::time_until_cut(&mut blocked_conn, PING, Duration::from_secs(5))
        .await
        .expect("the blocked user's connection is cut");
    eprintln!("blocked user's connection cut {cut:?} after `milly user block` returned");
    assert!(cut <= CUT_DEADLINE, "cut after {cut:?}");

    // Everyone else keeps their session; the blocked user cannot open a new one.
    let still = traffic::time_until_cut(&mut other_conn, PING, Duration::from_millis(500)).await;
    assert!(matches!(still, Err(TrafficError::NotCut(_))), "{still:?}");
    let accepted = echo.accepted();
    assert!(
        traffic::tcp_roundtrip(blocked.addr(), echo.addr(), b"again?")
            .await
            .is_err()
    );
    assert_eq!(
        echo.accepted(),
        accepted,
        "a blocked user reached the destination"
    );
}
