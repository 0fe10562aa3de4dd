//! The Mux command: Mux.Cool sessions (TCP streams and XUDP datagrams) inside one connection.
//!
//! One reader decodes the client's frames and hands each session's data to that session's task;
//! session tasks encode their replies as frames into one channel, which a single writer drains
//! to the client. Every session task lives in a `JoinSet` owned by the connection, so ending the
//! connection (client gone, user cut, shutdown) ends all of its sessions.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;
use vless::mux::{self, Frame, Network, Status};
use vless::{Address, Destination, LookupKey, Parse};

use crate::budget::SocketLease;
use crate::config::CONNECTS_IN_FLIGHT_PER_CONNECTION;
use crate::egress::{connect_out, dual_stack, resolve_out};
use crate::metrics::{BudgetRefusal, Metrics};
use crate::server::Shared;
use crate::udp::{give_datagram_buffer, take_datagram_buffer};
use crate::xudp::{Claim, MappingKey, XudpTable};

/// Frames queued towards the client before sessions wait for the writer.
const OUTBOUND_QUEUE: usize = 64;
/// Chunks queued towards one session's destination before the reader waits.
const SESSION_QUEUE: usize = 16;
/// Bytes read from a TCP destination per frame.
const CHUNK: usize = 8 * 1024;
/// Bytes read from the client at a time.
const STREAM_READ: usize = 16 * 1024;

/// What the reader hands a session: a TCP chunk, or a datagram with its destination when the
/// client names one (XUDP may change peers per datagram).
struct Inbound {
    data: Vec<u8>,
    to: Option<Destination>,
}

/// Serves a Mux connection until the client closes it, an error, or the idle timeout.
pub(crate) async fn serve<S>(
    stream: &mut S,
    user: LookupKey,
    rest: Vec<u8>,
    response: Vec<u8>,
    local: Option<IpAddr>,
    shared: &Arc<Shared>,
) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    shared.metrics.session_started();
    let (mut reader, mut writer) = tokio::io::split(stream);
    let (to_client, mut outbound) = mpsc::channel::<Vec<u8>>(OUTBOUND_QUEUE);
    let active = Arc::new(AtomicBool::new(true));
    let connects = Arc::new(Semaphore::new(CONNECTS_IN_FLIGHT_PER_CONNECTION));

    let write_side = {
        let active = active.clone();
        async move {
            writer.write_all(&response).await?;
            writer.flush().await?;
            while let Some(frame) = outbound.recv().await {
                writer.write_all(&frame).await?;
                active.store(true, Ordering::Relaxed);
                if outbound.is_empty() {
                    writer.flush().await?;
                }
            }
            writer.shutdown().await
        }
    };

    let read_side = async {
        let mut sessions: HashMap<u16, mpsc::Sender<Inbound>> = HashMap::new();
        let mut tasks = JoinSet::new();
        let mut buf = rest;
        loop {
            let mut used = 0;
            loop {
                let frame = match mux::decode_frame(&buf[used..]) {
                    Ok(Parse::Done {
                        value: frame,
                        consumed: n,
                    }) => {
                        used += n;
                        frame
                    }
                    Ok(Parse::NeedMore) => break,
                    Err(_) => return Err(io::Error::from(io::ErrorKind::InvalidData)),
                };
                let conn = Connection {
                    user,
                    local,
                    connects: &connects,
                    to_client: &to_client,
                };
                handle(frame, &conn, &mut sessions, &mut tasks, shared).await;
            }
            buf.drain(..used);
            buf.reserve(STREAM_READ);
            // Reap finished sessions so the set does not grow on long connections.
            while tasks.try_join_next().is_some() {}
            if reader.read_buf(&mut buf).await? == 0 {
                return Ok(());
            }
            active.store(true, Ordering::Relaxed);
        }
    };

    let idle = shared.config.idle_timeout;
    let watchdog = async {
        loop {
            tokio::time::sleep(idle).await;
            if !active.swap(false, Ordering::Relaxed) {
                return;
            }
        }
    };

    tokio::select! {
        read = read_side => read,
        written = write_side => written,
        _ = watchdog => Ok(()),
    }
}

/// What every frame of one Mux connection shares.
struct Connection<'a> {
    user: LookupKey,
    local: Option<IpAddr>,
    /// This connection's connects in flight.
    connects: &'a Arc<Semaphore>,
    to_client: &'a mpsc::Sender<Vec<u8>>,
}

/// Whether a `New` frame for `id` may open a session: not while a session of that id is live,
/// nor beyond `max_mux_sessions` live ones. Sessions that ended on their own are forgotten
/// here, so a client that never sends `End` still frees its slots.
fn session_allowed(
    id: u16,
    sessions: &mut HashMap<u16, mpsc::Sender<Inbound>>,
    max: usize,
) -> Result<(), BudgetRefusal> {
    if sessions.get(&id).is_some_and(|s| !s.is_closed()) {
        return Err(BudgetRefusal::MuxSessionReused);
    }
    if sessions.len() >= max {
        sessions.retain(|_, s| !s.is_closed());
    }
    if sessions.len() >= max && !sessions.contains_key(&id) {
        return Err(BudgetRefusal::MuxSessions);
    }
    Ok(())
}

/// Applies one client frame.
async fn handle(
    frame: Frame<'_>,
    conn: &Connection<'_>,
    sessions: &mut HashMap<u16, mpsc::Sender<Inbound>>,
    tasks: &mut JoinSet<()>,
    shared: &Arc<Shared>,
) {
    let id = frame.session_id;
    let (user, local, to_client) = (conn.user, conn.local, conn.to_client);
    match frame.status {
        Status::New { target, global_id } => {
            let allowed = session_allowed(id, sessions, shared.config.max_mux_sessions)
                .and_then(|()| shared.sockets.take(user));
            let lease = match allowed {
                Ok(lease) => lease,
                // A live session keeps going; a reused id is never a second socket.
                Err(BudgetRefusal::MuxSessionReused) => {
                    shared.metrics.refused(BudgetRefusal::MuxSessionReused);
                    return;
                }
                Err(refusal) => {
                    shared.metrics.refused(refusal);
                    let _ = to_client.send(end(id, true)).await;
                    return;
                }
            };
            let (tx, rx) = mpsc::channel(SESSION_QUEUE);
            if let Some(data) = frame.data.filter(|d| !d.is_empty()) {
                let _ = tx.try_send(Inbound {
                    data: data.to_vec(),
                    to: None,
                });
            }
            sessions.insert(id, tx);
            let to_client = to_client.clone();
            let shared = shared.clone();
            let connects = conn.connects.clone();
            let mapping = global_id.map(|g| (user, g.0));
            tasks.spawn(async move {
                let session = Session {
                    id,
                    to_client: &to_client,
                    local,
                    shared: &shared,
                    lease,
                };
                match target.network {
                    Network::Tcp => {
                        tcp_session(session, target.destination, rx, &connects).await;
                    }
                    Network::Udp => {
                        udp_session(session, target.destination, mapping, rx).await;
                    }
                }
            });
        }
        Status::Keep { udp_peer } => {
            let Some(data) = frame.data else { return };
            let delivered = match sessions.get(&id) {
                Some(session) => session
                    .send(Inbound {
                        data: data.to_vec(),
                        to: udp_peer,
                    })
                    .await
                    .is_ok(),
                None => false,
            };
            // Data for a session that is gone: tell the client to close it, as Xray does.
            if !delivered {
                sessions.remove(&id);
                let _ = to_client.send(end(id, false)).await;
            }
        }
        // Dropping the sender tells the session the client is done with it.
        Status::End => {
            sessions.remove(&id);
        }
        Status::KeepAlive => {}
    }
}

fn encode(id: u16, status: Status, error: bool, data: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + data.map_or(0, <[u8]>::len));
    let frame = Frame {
        session_id: id,
        status,
        error,
        data,
    };
    // Callers never pass more than 64 KiB of data.
    let _ = mux::encode_frame(&frame, &mut out);
    out
}

fn end(id: u16, error: bool) -> Vec<u8> {
    encode(id, Status::End, error, None)
}

/// Counts one session's bytes and adds them to the node's counters when the session ends.
struct Counted<'a> {
    metrics: &'a Metrics,
    up: u64,
    down: u64,
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.metrics.add_bytes(self.up, self.down);
    }
}

/// One session's identity and what it runs with; `lease` is its socket in the user's budget.
struct Session<'a> {
    id: u16,
    to_client: &'a mpsc::Sender<Vec<u8>>,
    local: Option<IpAddr>,
    shared: &'a Shared,
    lease: SocketLease,
}

async fn tcp_session(
    session: Session<'_>,
    destination: Destination,
    mut from_client: mpsc::Receiver<Inbound>,
    connects: &Semaphore,
) {
    let Session {
        id,
        to_client,
        local,
        shared,
        lease: _lease,
    } = session;
    let Some(remote) = connect_out(&destination, local, Some(connects), shared).await else {
        let _ = to_client.send(end(id, true)).await;
        return;
    };
    let mut count = Counted {
        metrics: &shared.metrics,
        up: 0,
        down: 0,
    };
    let (mut remote_read, mut remote_write) = remote.into_split();
    let upload = async {
        while let Some(Inbound { data, .. }) = from_client.recv().await {
            remote_write.write_all(&data).await?;
            count.up += data.len() as u64;
        }
        remote_write.shutdown().await
    };
    let download = async {
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = remote_read.read(&mut buf).await?;
            if n == 0 {
                return Ok::<u64, io::Error>(0);
            }
            count.down += n as u64;
            let frame = encode(id, Status::Keep { udp_peer: None }, false, Some(&buf[..n]));
            if to_client.send(frame).await.is_err() {
                return Ok(0);
            }
        }
    };
    let outcome = tokio::select! {
        up = upload => match up {
            // The client ended the session: nothing more to send it.
            Ok(()) => return,
            Err(e) => Err(e),
        },
        down = download => down.map(|_| ()),
    };
    let _ = to_client.send(end(id, outcome.is_err())).await;
}

/// Gives a session's XUDP mapping back to the table however the session ends.
struct Released<'a> {
    table: &'a XudpTable,
    claim: Claim,
}

impl Drop for Released<'_> {
    fn drop(&mut self) {
        self.table.release(&self.claim);
    }
}

async fn udp_session(
    session: Session<'_>,
    first: Destination,
    mapping: Option<MappingKey>,
    mut from_client: mpsc::Receiver<Inbound>,
) {
    let Session {
        id,
        to_client,
        local,
        shared,
        lease,
    } = session;
    // Dual-stack, unconnected: any peer may answer (full-cone), and XUDP may change peers.
    let claim = match shared.xudp.claim(mapping, lease).await {
        Ok(claim) => Released {
            table: &shared.xudp,
            claim,
        },
        Err(_) => {
            let _ = to_client.send(end(id, true)).await;
            return;
        }
    };
    let socket = &claim.claim.socket;
    let v6 = claim.claim.v6;
    let mut count = Counted {
        metrics: &shared.metrics,
        up: 0,
        down: 0,
    };
    let mut peer = first;
    let mut resolved: Option<(Destination, SocketAddr)> = None;
    loop {
        tokio::select! {
            inbound = from_client.recv() => {
                let Some(Inbound { data: datagram, to }) = inbound else { return };
                if let Some(to) = to {
                    peer = to;
                }
                let target = match &resolved {
                    Some((d, addr)) if *d == peer => Some(*addr),
                    _ => resolve_out(&peer, local, shared)
                        .await
                        .and_then(|addrs| addrs.first().copied())
                        .inspect(|&a| resolved = Some((peer.clone(), a))),
                };
                if let Some(target) = target {
                    let target = if v6 { dual_stack(target) } else { target };
                    if socket.send_to(&datagram, target).await.is_ok() {
                        count.up += datagram.len() as u64;
                    }
                }
            }
            ready = socket.readable() => {
                // A newer session of the same client took the mapping over: this one is done.
                if ready.is_err() || !shared.xudp.owns(&claim.claim) {
                    let _ = to_client.send(end(id, ready.is_err())).await;
                    return;
                }
                let mut datagram = take_datagram_buffer();
                let received = socket.try_recv_buf_from(&mut datagram);
                let frame = received.ok().map(|(n, from)| {
                    count.down += n as u64;
                    let from = Destination {
                        address: match from.ip().to_canonical() {
                            IpAddr::V4(v4) => Address::Ipv4(v4),
                            IpAddr::V6(v6) => Address::Ipv6(v6),
                        },
                        port: from.port(),
                    };
                    encode(id, Status::Keep { udp_peer: Some(from) }, false, Some(&datagram))
                });
                give_datagram_buffer(datagram);
                if let Some(frame) = frame {
                    if to_client.send(frame).await.is_err() {
                        return;
                    }
                }
            }
        }
    }
}
