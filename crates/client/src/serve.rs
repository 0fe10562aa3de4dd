//! The listeners: accept local connections, open one node connection each, relay, and stop
//! cleanly when told to.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use vless::Destination;

use crate::outbound::Outbound;
use crate::socks::{self, Reply};

/// Most local connections relayed at once per listener; more wait to be accepted.
pub const MAX_CONNECTIONS: usize = 4096;

/// Connection counts, for the summary at exit. Never who or where.
#[derive(Debug, Default)]
pub struct Counters {
    pub accepted: AtomicU64,
    pub failed: AtomicU64,
    /// Bytes Vision's direct copy moved with splice(2), kernel to kernel (Linux only).
    pub spliced: AtomicU64,
}

/// What a listener's connections are relayed to.
#[derive(Clone)]
enum Inbound {
    Socks,
    Forward(Destination),
}

/// Serves SOCKS5 on `listener` until `shutdown`, then waits for its connections to end (they
/// are cut at shutdown).
pub async fn serve_socks(
    listener: TcpListener,
    outbound: Outbound,
    counters: Arc<Counters>,
    shutdown: CancellationToken,
) {
    serve(listener, Inbound::Socks, outbound, counters, shutdown).await;
}

/// Relays every connection to `listener` to `destination` until `shutdown`.
pub async fn serve_forward(
    listener: TcpListener,
    destination: Destination,
    outbound: Outbound,
    counters: Arc<Counters>,
    shutdown: CancellationToken,
) {
    serve(
        listener,
        Inbound::Forward(destination),
        outbound,
        counters,
        shutdown,
    )
    .await;
}

async fn serve(
    listener: TcpListener,
    inbound: Inbound,
    outbound: Outbound,
    counters: Arc<Counters>,
    shutdown: CancellationToken,
) {
    let tracker = TaskTracker::new();
    let limit = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let permit = tokio::select! {
            () = shutdown.cancelled() => break,
            permit = limit.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a local connection failed");
                    continue;
                }
            },
        };
        counters.accepted.fetch_add(1, Relaxed);
        let (inbound, outbound, counters, shutdown) = (
            inbound.clone(),
            outbound.clone(),
            counters.clone(),
            shutdown.clone(),
        );
        tracker.spawn(async move {
            let _permit = permit;
            tokio::select! {
                () = shutdown.cancelled() => {}
                ok = handle(stream, inbound, &outbound, &counters) => if !ok {
                    counters.failed.fetch_add(1, Relaxed);
                },
            }
        });
    }
    tracker.close();
    tracker.wait().await;
}

/// One local connection; `false` if it failed before or while relaying.
async fn handle(
    mut stream: TcpStream,
    inbound: Inbound,
    outbound: &Outbound,
    counters: &Counters,
) -> bool {
    // Nagle would hold back small writes from interactive applications.
    let _ = stream.set_nodelay(true);
    let is_socks = matches!(inbound, Inbound::Socks);
    let destination = match inbound {
        Inbound::Forward(d) => d,
        Inbound::Socks => match socks::accept(&mut stream).await {
            Ok(d) => d,
            Err(e) => {
                tracing::debug!(error = %e, "SOCKS request refused");
                return false;
            }
        },
    };
    let remote = match outbound.open_tcp(destination).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "cannot open a connection through the node");
            if is_socks {
                let _ = socks::reply(&mut stream, Reply::GeneralFailure).await;
            }
            return false;
        }
    };
    if is_socks && socks::reply(&mut stream, Reply::Succeeded).await.is_err() {
        return false;
    }
    match remote.relay(stream).await {
        Ok(relayed) => {
            counters.spliced.fetch_add(relayed.spliced, Relaxed);
            true
        }
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            tracing::warn!(error = %e, "the node refused the link");
            false
        }
        Err(e) => {
            tracing::debug!(error = %e, "relay ended with an error");
            false
        }
    }
}
