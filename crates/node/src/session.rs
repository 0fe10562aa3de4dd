//! One client connection after its transport handshake: read the VLESS request, then proxy it or
//! hand it to the fallback. Works over any byte stream, so TLS today and REALITY later share it.

use std::io;
use std::net::IpAddr;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;
use vless::{Command, Flow, Parse, Request, UserKey};

use crate::access::{unix_now, Grant};
use crate::budget::SourceSlot;
use crate::chain;
use crate::egress::connect_out;
use crate::fallback::{self, FallbackLimits, Origin};
use crate::http_transport::http_service::{self, Served};
use crate::http_transport::website::Website;
use crate::http_transport::{self, Accepted, Route, WsStream};
use crate::metrics::HandshakeFailure;
use crate::mux;
use crate::server::Shared;
use crate::udp;
use xtls_stream::{Relay, Transport, VisionStream};

/// Bytes read at a time while waiting for the request header.
const HEADER_READ: usize = 1024;
/// A request header is at most about 550 bytes; more without a complete header is not VLESS.
const MAX_HEADER: usize = 2048;
/// Bytes of a header that identify the user: version and id.
const USER_PREFIX: usize = 17;

/// What the first bytes of a connection turned out to be.
enum Handshake {
    /// An allowed user's request (or an entry node's, `peer`); `rest` is payload that came
    /// with the header.
    Proxy {
        request: Request,
        grant: Grant,
        peer: bool,
        rest: Vec<u8>,
    },
    /// Not ours: everything read so far goes to the website.
    Fallback {
        read: Vec<u8>,
        why: HandshakeFailure,
    },
    /// The connection failed while reading; nothing more to do.
    Broken,
}

/// Serves one connection whose transport handshake is done. `local` is the node address the
/// client reached (refused as a destination); `deadline` ends the wait for the request.
pub(crate) async fn serve<S>(
    mut stream: S,
    local: Option<IpAddr>,
    origin: Option<Origin>,
    slot: &mut SourceSlot,
    deadline: Instant,
    shared: &Arc<Shared>,
) where
    S: AsyncRead + AsyncWrite + Transport + Unpin + Send + 'static,
{
    let mut handshake = read_request(&mut stream, Vec::new(), deadline, shared).await;
    // Not VLESS, but perhaps one of the HTTP transports (REALITY's streams can go direct, and
    // carry only XHTTP and gRPC).
    let http = &shared.config.http;
    if let Handshake::Fallback {
        read,
        why: HandshakeFailure::NotVless,
    } = handshake
    {
        let reality = stream.is_reality();
        handshake = match http_transport::route(&mut stream, read, deadline, http, reality).await {
            Route::Website(read) => Handshake::Fallback {
                read,
                why: HandshakeFailure::NotVless,
            },
            Route::Broken => Handshake::Broken,
            Route::Upgraded(accepted) => {
                serve_upgraded(&mut stream, accepted, local, slot, deadline, shared).await;
                return;
            }
            Route::Served(read) => {
                slot.handshake_done();
                let website = Website::At {
                    addr: shared.config.fallback,
                    origin: origin.filter(|_| shared.config.fallback_proxy_protocol),
                };
                let served = Served {
                    shared: shared.clone(),
                    peer: origin.map_or(std::net::Ipv4Addr::UNSPECIFIED.into(), |o| o.peer.ip()),
                    identity: None,
                    local,
                    website,
                };
                http_service::serve(stream, read, served).await;
                return;
            }
        };
    }
    slot.handshake_done();
    match handshake {
        Handshake::Broken => {}
        Handshake::Fallback { read, why } => {
            shared.metrics.failure(why);
            let proxy = origin.filter(|_| shared.config.fallback_proxy_protocol);
            let _ = fallback::hand_over(
                &mut stream,
                read,
                shared.config.fallback,
                proxy,
                FallbackLimits::of(&shared.config),
                &shared.metrics,
            )
            .await;
        }
        proxied @ Handshake::Proxy { .. } => {
            run_proxy(&mut stream, proxied, local, slot, shared).await;
        }
    }
}

/// Serves the one VLESS connection an XHTTP session or a gRPC call carries in `stream`.
pub(crate) async fn serve_inside<S>(
    mut stream: S,
    local: Option<IpAddr>,
    slot: &mut SourceSlot,
    deadline: Instant,
    shared: &Arc<Shared>,
) where
    S: AsyncRead + AsyncWrite + Transport + Unpin + Send,
{
    let inner = read_request(&mut stream, Vec::new(), deadline, shared).await;
    slot.handshake_done();
    inside_transport(&mut stream, inner, local, slot, shared).await;
    let _ = stream.shutdown().await;
}

/// Serves the VLESS request inside an HTTP transport whose upgrade `accepted` answered (the
/// TLS port's and `plain_http`'s); hands back `accepted` when it was no upgrade (`NotOurs`,
/// `Broken`).
pub(crate) async fn serve_upgraded<S>(
    stream: &mut S,
    accepted: Accepted,
    local: Option<IpAddr>,
    slot: &mut SourceSlot,
    deadline: Instant,
    shared: &Arc<Shared>,
) -> Option<Accepted>
where
    S: AsyncRead + AsyncWrite + Transport + Unpin + Send,
{
    match accepted {
        Accepted::WebSocket { early, leftover } => {
            let mut ws = WsStream::new(stream, leftover);
            let inner = read_request(&mut ws, early, deadline, shared).await;
            slot.handshake_done();
            inside_transport(&mut ws, inner, local, slot, shared).await;
            None
        }
        Accepted::HttpUpgrade { first } => {
            let inner = read_request(stream, first, deadline, shared).await;
            slot.handshake_done();
            inside_transport(stream, inner, local, slot, shared).await;
            None
        }
        other => Some(other),
    }
}

/// Serves the request read inside an HTTP transport. The upgrade is answered, so the website
/// can no longer take over: anything but an allowed request is closed, as Xray does.
async fn inside_transport<S>(
    stream: &mut S,
    handshake: Handshake,
    local: Option<IpAddr>,
    slot: &mut SourceSlot,
    shared: &Arc<Shared>,
) where
    S: AsyncRead + AsyncWrite + Transport + Unpin + Send,
{
    match handshake {
        Handshake::Broken => {}
        Handshake::Fallback { why, .. } => shared.metrics.failure(why),
        proxied @ Handshake::Proxy { .. } => run_proxy(stream, proxied, local, slot, shared).await,
    }
}

/// Proxies an allowed request until it ends or its user's access is cut.
async fn run_proxy<S>(
    stream: &mut S,
    handshake: Handshake,
    local: Option<IpAddr>,
    slot: &mut SourceSlot,
    shared: &Arc<Shared>,
) where
    S: AsyncRead + AsyncWrite + Transport + Unpin + Send,
{
    let Handshake::Proxy {
        request,
        grant,
        peer,
        rest,
    } = handshake
    else {
        return;
    };
    if peer {
        slot.peer_proved();
    }
    let proxied = proxy(stream, request, rest, local, shared);
    tokio::select! {
        _ = proxied => {}
        _ = grant.cut() => shared.metrics.revocation_cut(),
    }
}

/// Reads the request, starting from `first` (bytes that came before the stream, such as a
/// transport's early data).
async fn read_request<S>(
    stream: &mut S,
    first: Vec<u8>,
    deadline: Instant,
    shared: &Shared,
) -> Handshake
where
    S: AsyncRead + Unpin,
{
    let mut buf = first;
    buf.reserve(HEADER_READ);
    loop {
        if let Some(outcome) = judge(&buf, shared) {
            return outcome;
        }
        if buf.len() >= MAX_HEADER {
            return Handshake::Fallback {
                read: buf,
                why: HandshakeFailure::NotVless,
            };
        }
        buf.reserve(HEADER_READ);
        match tokio::time::timeout_at(deadline, stream.read_buf(&mut buf)).await {
            Err(_elapsed) => {
                return Handshake::Fallback {
                    read: buf,
                    why: HandshakeFailure::Timeout,
                }
            }
            // The client finished sending without a complete request: the website answers it.
            Ok(Ok(0)) => {
                return Handshake::Fallback {
                    read: buf,
                    why: HandshakeFailure::NotVless,
                }
            }
            Ok(Ok(_)) => {}
            Ok(Err(_)) => return Handshake::Broken,
        }
    }
}

/// Decides on the bytes so far: `None` means read more.
fn judge(buf: &[u8], shared: &Shared) -> Option<Handshake> {
    let fallback = |why| {
        Some(Handshake::Fallback {
            read: buf.to_vec(),
            why,
        })
    };
    if buf.is_empty() {
        return None;
    }
    // Rule out strangers as early as their bytes allow, so probes reach the website at once.
    if buf.len() >= USER_PREFIX && buf[0] == vless::VERSION {
        let mut id = UserKey([0u8; 16]);
        id.0.copy_from_slice(&buf[1..USER_PREFIX]);
        let now = unix_now();
        if !shared.access.is_allowed(&id, now) && !shared.peers.is_allowed(&id, now) {
            return fallback(HandshakeFailure::UnknownUser);
        }
    }
    match vless::decode_request(buf) {
        Ok(Parse::NeedMore) => None,
        Err(_) => fallback(HandshakeFailure::NotVless),
        Ok(Parse::Done {
            value: request,
            consumed: used,
        }) => {
            let now = unix_now();
            let user = shared.access.authorize(&request.user, now);
            let (grant, peer) = match user {
                Some(grant) => (grant, false),
                None => match shared.peers.authorize(&request.user, now) {
                    Some(grant) => (grant, true),
                    None => return fallback(HandshakeFailure::UnknownUser),
                },
            };
            Some(Handshake::Proxy {
                request,
                grant,
                peer,
                rest: buf[used..].to_vec(),
            })
        }
    }
}

/// Runs an authorised request. Failures close the connection without a response, as Xray does.
async fn proxy<S>(
    stream: &mut S,
    request: Request,
    rest: Vec<u8>,
    local: Option<IpAddr>,
    shared: &Arc<Shared>,
) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + Transport + Unpin + Send,
{
    let vision = request.flow == Flow::Vision
        && stream.can_go_direct()
        && matches!(request.command, Command::Tcp | Command::Mux);
    if request.flow != Flow::None && !vision {
        shared.metrics.failure(HandshakeFailure::Unsupported);
        return Ok(());
    }
    // As Xray-core: over REALITY every user's flow is Vision, and plain VLESS TCP inside it
    // would show TLS-in-TLS on the wire, so a client that lost the link's flow is refused rather
    // than exposed. (UDP and Mux stay allowed; Xray also refuses a Mux whose first session is TCP.)
    if request.flow == Flow::None && stream.is_reality() && request.command == Command::Tcp {
        shared.metrics.failure(HandshakeFailure::Unsupported);
        return Ok(());
    }
    if let Some(chain) = &shared.chain {
        if request.command != Command::Mux && request.destination.is_none() {
            shared.metrics.failure(HandshakeFailure::Unsupported);
            return Ok(());
        }
        // Held until the relay ends: the socket to the exit counts against the user.
        let _lease = match shared.sockets.take(request.user.lookup_key()) {
            Ok(lease) => lease,
            Err(refusal) => {
                shared.metrics.refused(refusal);
                return Ok(());
            }
        };
        return chain::carry(stream, &request, rest, vision, chain, shared).await;
    }
    let mut response = Vec::with_capacity(2);
    vless::encode_response(&mut response);
    match (request.command, request.destination) {
        (Command::Tcp, Some(destination)) => {
            // Held until the relay ends: the destination socket counts against the user.
            let _lease = match shared.sockets.take(request.user.lookup_key()) {
                Ok(lease) => lease,
                Err(refusal) => {
                    shared.metrics.refused(refusal);
                    return Ok(());
                }
            };
            let Some(mut remote) = connect_out(&destination, local, None, shared).await else {
                return Ok(());
            };
            shared.metrics.session_started();
            if vision {
                // The response header goes out unpadded, then the relay runs inside Vision.
                stream.write_all(&response).await?;
                stream.flush().await?;
                let mut inner = VisionStream::server(&mut *stream, request.user, &rest)?;
                Relay::new(
                    &mut inner,
                    &mut remote,
                    Vec::new(),
                    Vec::new(),
                    &*shared.metrics,
                )
                .with_idle_timeout(shared.config.idle_timeout)
                .with_splice(&shared.pipes)
                .await?;
                return Ok(());
            }
            // Splices whenever both ends are raw sockets with nothing buffered above them.
            Relay::new(stream, &mut remote, rest, response, &*shared.metrics)
                .with_idle_timeout(shared.config.idle_timeout)
                .with_splice(&shared.pipes)
                .await?;
            Ok(())
        }
        (Command::Udp, Some(destination)) => {
            let lease = match shared.sockets.take(request.user.lookup_key()) {
                Ok(lease) => lease,
                Err(refusal) => {
                    shared.metrics.refused(refusal);
                    return Ok(());
                }
            };
            udp::serve(stream, &destination, rest, response, local, shared, lease).await
        }
        (Command::Mux, _) if vision => {
            // The response header goes out unpadded, then Mux runs inside Vision.
            stream.write_all(&response).await?;
            stream.flush().await?;
            let mut inner = VisionStream::server(&mut *stream, request.user, &rest)?;
            let user = request.user.lookup_key();
            mux::serve(&mut inner, user, Vec::new(), Vec::new(), local, shared).await
        }
        (Command::Mux, _) => {
            let user = request.user.lookup_key();
            mux::serve(stream, user, rest, response, local, shared).await
        }
        _ => {
            shared.metrics.failure(HandshakeFailure::Unsupported);
            Ok(())
        }
    }
}
