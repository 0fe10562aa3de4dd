//! The website's HTTP/1.1 server, with a budget for every connection: the whole header within
//! `header_read_timeout` (a slowloris is dropped), a connection on which nothing moves for
//! `keepalive_idle` is closed gently, each request has `request_timeout` from header to answer
//! (408), and at most `max_connections` are open at once.
//!
//! Past the cap, new connections **wait in the kernel's accept queue** rather than being
//! accepted and closed: every held connection ends within its budget, so a waiting person gets
//! in seconds later instead of an error now (the queue is the listener's backlog; when it is
//! full the kernel drops SYNs and clients retry).
//!
//! Two intakes share one cap: [`AddressSource::Direct`] (the public listener: the TCP peer is the
//! connection's address) and [`AddressSource::ProxyV2`] (loopback only, for the node's fallback: a
//! PROXY protocol v2 header must come first and its source is the connection's address).
//! A third, [`AddressSource::Tls`], is the direct intake behind TLS (the site's own HTTPS with
//! its ACME certificate): the handshake must finish within `header_read_timeout`, then the same
//! budgets apply. Handlers see that address as `ConnectInfo<SocketAddr>`, as with `axum::serve`.

mod activity;
mod proxy_header;
mod tls;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::Service as _;
use tower_http::timeout::TimeoutLayer;

use activity::Watched;
pub use proxy_header::{ProxiedSource, ProxyHeaderError};
pub use tls::tls_intake;

/// How long a connection on the PROXY intake has to send its header (the node sends it at once).
pub const PROXY_HEADER_TIMEOUT: Duration = Duration::from_secs(5);

/// How long in-flight requests get to finish after shutdown is asked for.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(8);

/// After an accept error (out of file descriptors, say), wait this long before the next accept.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

/// The budgets of [`serve`]; `milly` builds them from `[web]` in the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    pub header_read_timeout: Duration,
    pub keepalive_idle: Duration,
    pub request_timeout: Duration,
    pub max_connections: usize,
    pub shutdown_grace: Duration,
}

/// How connections on one listener say who they come from (and whether TLS comes first).
#[derive(Clone)]
pub enum AddressSource {
    /// The TCP peer.
    Direct,
    /// The TCP peer, after a TLS handshake with this acceptor ([`tls_intake`]).
    Tls(tokio_rustls::TlsAcceptor),
    /// A mandatory PROXY protocol v2 header; without a valid one within
    /// [`PROXY_HEADER_TIMEOUT`] the connection is closed. Bind such a listener on loopback only.
    ProxyV2,
}

/// Serves `router` on `listener` until `shutdown`, then lets in-flight requests finish within
/// the grace period.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
    shutdown: CancellationToken,
) {
    serve_intakes(
        vec![(listener, AddressSource::Direct)],
        router,
        limits,
        shutdown,
    )
    .await;
}

/// [`serve`] on several listeners, each with its intake, under one connection cap.
pub async fn serve_intakes(
    listeners: Vec<(TcpListener, AddressSource)>,
    router: Router,
    limits: ServerLimits,
    shutdown: CancellationToken,
) {
    let router = router.layer(TimeoutLayer::with_status_code(
        StatusCode::REQUEST_TIMEOUT,
        limits.request_timeout,
    ));
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let connections = TaskTracker::new();
    let mut accepting = tokio::task::JoinSet::new();
    for (listener, intake) in listeners {
        accepting.spawn(accept_loop(
            listener,
            intake.clone(),
            router.clone(),
            limits,
            slots.clone(),
            connections.clone(),
            shutdown.clone(),
        ));
    }
    while accepting.join_next().await.is_some() {}
    connections.close();
    // Every connection ends by itself within the grace period once shutdown is asked for.
    connections.wait().await;
}

async fn accept_loop(
    listener: TcpListener,
    intake: AddressSource,
    router: Router,
    limits: ServerLimits,
    slots: Arc<Semaphore>,
    connections: TaskTracker,
    shutdown: CancellationToken,
) {
    loop {
        // A slot first: without one, the next connection waits in the kernel's queue.
        let permit = tokio::select! {
            _ = shutdown.cancelled() => return,
            permit = slots.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => return,
            },
        };
        let (stream, peer) = tokio::select! {
            _ = shutdown.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // No address in an accept error; the kind says enough (EMFILE and such).
                    tracing::warn!(error = %e, "website: accept failed");
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    continue;
                }
            },
        };
        connections.spawn(connection(
            stream,
            peer,
            intake.clone(),
            router.clone(),
            limits,
            shutdown.clone(),
            permit,
        ));
    }
}

/// One connection from accept to close; holds its slot until then.
async fn connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    intake: AddressSource,
    router: Router,
    limits: ServerLimits,
    shutdown: CancellationToken,
    _slot: OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true);
    let client = match intake {
        AddressSource::Direct => peer,
        AddressSource::Tls(acceptor) => {
            // The handshake counts as part of the header: a client that stalls in it is dropped
            // as a slowloris is.
            let handshake = tokio::select! {
                _ = shutdown.cancelled() => return,
                h = tokio::time::timeout(limits.header_read_timeout, acceptor.accept(stream)) => h,
            };
            // A failed or slow handshake is the client's doing: nothing to answer or log.
            let Ok(Ok(tls)) = handshake else { return };
            serve_http(tls, peer, router, limits, shutdown).await;
            return;
        }
        AddressSource::ProxyV2 => {
            let header = tokio::select! {
                _ = shutdown.cancelled() => return,
                h = tokio::time::timeout(PROXY_HEADER_TIMEOUT, proxy_header::read(&mut stream)) => h,
            };
            match header {
                Ok(Ok(ProxiedSource::Client(source))) => source,
                Ok(Ok(ProxiedSource::Local)) => peer,
                // No valid header in time: nothing to answer, nothing worth logging.
                Ok(Err(_)) | Err(_) => return,
            }
        }
    };
    serve_http(stream, client, router, limits, shutdown).await;
}

/// HTTP/1.1 on `stream` (plain or TLS) under the connection's budgets.
async fn serve_http<S>(
    stream: S,
    client: SocketAddr,
    router: Router,
    limits: ServerLimits,
    shutdown: CancellationToken,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let io = Watched::new(stream);
    let activity = io.activity();
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(client));
        let mut router = router.clone();
        async move {
            let response = router.call(request.map(axum::body::Body::new)).await;
            Ok::<_, Infallible>(match response {
                Ok(r) => r,
                Err(never) => match never {},
            })
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    let conn = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    // Once closing was asked for (idleness or shutdown), the connection has until `closing_by`.
    let mut gentle = false;
    let mut shutting_down = false;
    let mut closing_by: Option<tokio::time::Instant> = None;
    loop {
        tokio::select! {
            // Errors here are the client's doing (a header timeout, a reset): nothing to log.
            _ = conn.as_mut() => return,
            _ = shutdown.cancelled(), if !shutting_down => {
                shutting_down = true;
                if !gentle {
                    gentle = true;
                    conn.as_mut().graceful_shutdown();
                }
                let by = tokio::time::Instant::now() + limits.shutdown_grace;
                closing_by = Some(closing_by.map_or(by, |c| c.min(by)));
            }
            _ = activity.idle_for(limits.keepalive_idle), if !gentle => {
                // An idle keep-alive closes now; a request in progress may finish (its own
                // timeout bounds it); a client that stopped reading is cut off after that.
                gentle = true;
                conn.as_mut().graceful_shutdown();
                closing_by = Some(tokio::time::Instant::now() + limits.request_timeout);
            }
            _ = sleep_until_some(closing_by), if closing_by.is_some() => return,
        }
    }
}

async fn sleep_until_some(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests;
