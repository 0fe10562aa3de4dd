//! `[node.http] listen`: the HTTP transports in plain HTTP/1.1 and HTTP/2 without TLS (h2c) for
//! a reverse proxy or CDN in front (nginx, Caddy) that terminates TLS and is the website. Only
//! an upgrade to an enabled transport's exact path, or XHTTP's and gRPC's requests, are served
//! (the VLESS request then comes inside, as on the TLS port); anything else gets a bare 404:
//! there is no website behind this port.
//!
//! Connections here are held to the same budgets as on the TLS port. Their source is the TCP
//! peer, unless the peer is a trusted proxy: then it is the client its forwarded header names
//! (`client-identity`'s rules, the same as the website's). A stranger is admitted before it may
//! send a byte; a trusted proxy's connection once its request head says for whom. Addresses are
//! only counted in memory, never logged.

use std::net::SocketAddr;
use std::sync::Arc;

use client_identity::ClientIdentity;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::http_transport::http_service::{self, Served};
use crate::http_transport::website::Website;
use crate::http_transport::{self, Accepted};
use crate::metrics::HandshakeFailure;
use crate::server::{ActiveConnection, Shared, ACCEPT_BACKOFF};
use crate::session;

/// What is answered to anything but an enabled transport's upgrade.
const NOT_FOUND: &[u8] =
    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/// The plain HTTP listener and whom to believe about clients' addresses on it.
#[derive(Debug)]
pub struct PlainHttp {
    pub listener: TcpListener,
    /// The trusted proxies and their forwarded header.
    pub identity: ClientIdentity,
}

/// Accepts until `shutdown`, each connection within the node's connection cap (`limit`).
pub(crate) async fn accept_loop(
    plain: PlainHttp,
    shared: Arc<Shared>,
    limit: Arc<Semaphore>,
    tasks: TaskTracker,
    shutdown: CancellationToken,
) {
    let PlainHttp { listener, identity } = plain;
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(
            port = addr.port(),
            "HTTP transports listening (plain, behind a proxy)"
        );
    }
    loop {
        let permit = tokio::select! {
            _ = shutdown.cancelled() => return,
            permit = limit.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_closed) => return,
            },
        };
        let (tcp, peer) = tokio::select! {
            _ = shutdown.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(kind = ?e.kind(), "accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        let shared = shared.clone();
        let identity = identity.clone();
        let stop = shutdown.clone();
        tasks.spawn(async move {
            tokio::select! {
                _ = stop.cancelled() => {}
                _ = connection(tcp, peer, &identity, &shared) => {}
            }
            drop(permit);
        });
    }
}

async fn connection(
    mut tcp: TcpStream,
    peer: SocketAddr,
    identity: &ClientIdentity,
    shared: &Arc<Shared>,
) {
    shared.metrics.connection_opened();
    let _active = ActiveConnection(&shared.metrics);
    let deadline = Instant::now() + shared.config.handshake_timeout;
    let _ = tcp.set_nodelay(true);
    let mut slot = None;
    if !identity.trusts(peer.ip()) {
        match shared.sources.admit(peer.ip()) {
            Ok(admitted) => slot = Some(admitted),
            Err(refusal) => return shared.metrics.refused(refusal),
        }
    }
    let local = tcp.local_addr().ok().map(|a| a.ip());
    let http = &shared.config.http;
    // XHTTP and gRPC, over HTTP/2 without TLS (h2c) or HTTP/1.1: each session is admitted on
    // its own, for the client its request names.
    // (The connection's own slot, if any, stays held while they are served.)
    let served = || Served {
        shared: shared.clone(),
        peer: peer.ip(),
        identity: Some(identity.clone()),
        local,
        website: Website::None,
    };
    let read = match http_transport::read_head(&mut tcp, Vec::new(), deadline).await {
        Ok(read) => read,
        Err(Accepted::NotOurs(read)) if http.h2_based() && http_transport::may_be_h2(&read) => {
            return http_service::serve(tcp, read, served()).await;
        }
        Err(Accepted::NotOurs(_)) => return not_found(&mut tcp, deadline, shared).await,
        Err(_) => return,
    };
    if http_transport::request_path(&read).is_some_and(|path| http_service::is_ours(http, &path)) {
        return http_service::serve(tcp, read, served()).await;
    }
    let mut slot = match slot {
        Some(slot) => slot,
        None => {
            let client = identity.client(peer.ip(), &http_transport::request_headers(&read));
            match shared.sources.admit(client) {
                Ok(admitted) => admitted,
                Err(refusal) => return shared.metrics.refused(refusal),
            }
        }
    };
    let accepted = http_transport::accept(&mut tcp, read, deadline, http).await;
    let upgraded =
        session::serve_upgraded(&mut tcp, accepted, local, &mut slot, deadline, shared).await;
    slot.handshake_done();
    if let Some(Accepted::NotOurs(_)) = upgraded {
        not_found(&mut tcp, deadline, shared).await;
    }
}

async fn not_found(tcp: &mut TcpStream, deadline: Instant, shared: &Shared) {
    shared.metrics.failure(HandshakeFailure::NotVless);
    let _ = tokio::time::timeout_at(deadline, async {
        tcp.write_all(NOT_FOUND).await?;
        tcp.shutdown().await
    })
    .await;
}
