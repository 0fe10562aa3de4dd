//! The accept loop: connection limit, TLS handshake, one task per connection, graceful shutdown.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::access::AccessTable;
use crate::config::{NodeConfig, TlsSource};
use crate::egress::EgressPolicy;
use crate::metrics::{HandshakeFailure, Metrics};
use crate::read_ahead::ReadAhead;
use crate::reality::RealityServer;
use crate::session;
use crate::tls::{self, TlsError};
use crate::xudp::XudpTable;

/// Pause after a failed `accept` (for example out of file descriptors) before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("TLS setup failed: {0}")]
    Tls(#[from] TlsError),
    #[error("max_connections must be at least 1")]
    NoConnectionsAllowed,
}

/// What every connection task reads.
pub(crate) struct Shared {
    pub(crate) config: NodeConfig,
    pub(crate) access: AccessTable,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) egress: EgressPolicy,
    pub(crate) xudp: XudpTable,
}

/// How a connection proves itself before the VLESS request.
#[derive(Clone)]
enum Transport {
    Tls(TlsAcceptor),
    Reality(Arc<RealityServer>),
}

/// A VLESS-over-TLS (or REALITY) node, ready to serve a listener.
pub struct Node {
    shared: Arc<Shared>,
    acceptor: Transport,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node").finish_non_exhaustive()
    }
}

impl Node {
    /// Prepares a node: loads or generates its certificate. Users come from `access`, which the
    /// control plane keeps updating while the node runs.
    pub fn new(config: NodeConfig, access: AccessTable) -> Result<Self, NodeError> {
        if config.max_connections == 0 {
            return Err(NodeError::NoConnectionsAllowed);
        }
        let acceptor = match &config.tls {
            TlsSource::Reality(settings) => {
                Transport::Reality(Arc::new(RealityServer::new(settings)))
            }
            source => Transport::Tls(TlsAcceptor::from(tls::server_config(source)?)),
        };
        let mut own = config.own_addresses.clone();
        if !config.listen.ip().is_unspecified() {
            own.push(config.listen.ip());
        }
        let egress = EgressPolicy {
            allow_private: config.allow_private_destinations,
            own,
        };
        Ok(Self {
            shared: Arc::new(Shared {
                config,
                access,
                metrics: Arc::new(Metrics::default()),
                egress,
                xudp: XudpTable::default(),
            }),
            acceptor,
        })
    }

    /// The node's counters; keep the handle to read them while the node runs.
    pub fn metrics(&self) -> Arc<Metrics> {
        self.shared.metrics.clone()
    }

    /// Serves `listener` until `shutdown` is cancelled, then closes every connection and
    /// returns once all connection tasks have ended.
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: CancellationToken,
    ) -> Result<(), NodeError> {
        let limit = Arc::new(Semaphore::new(self.shared.config.max_connections));
        let tasks = TaskTracker::new();
        tasks.spawn(
            self.shared
                .access
                .clone()
                .enforce_expiry(shutdown.child_token()),
        );
        if let Ok(addr) = listener.local_addr() {
            tracing::info!(port = addr.port(), "VLESS node listening");
        }
        loop {
            let permit = tokio::select! {
                _ = shutdown.cancelled() => break,
                permit = limit.clone().acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_closed) => break,
                },
            };
            let accepted = tokio::select! {
                _ = shutdown.cancelled() => break,
                accepted = listener.accept() => accepted,
            };
            // The peer address is dropped here unread: the node keeps no record of clients.
            let tcp = match accepted {
                Ok((tcp, _peer)) => tcp,
                Err(e) => {
                    tracing::warn!(kind = ?e.kind(), "accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            };
            let shared = self.shared.clone();
            let acceptor = self.acceptor.clone();
            let stop = shutdown.clone();
            tasks.spawn(async move {
                tokio::select! {
                    _ = stop.cancelled() => {}
                    _ = connection(tcp, acceptor, &shared) => {}
                }
                drop(permit);
            });
        }
        tasks.close();
        tasks.wait().await;
        tracing::info!(
            active = self.shared.metrics.snapshot().connections_active,
            "VLESS node stopped"
        );
        Ok(())
    }
}

/// Counts a connection as active for as long as it lives.
struct ActiveConnection<'a>(&'a Metrics);

impl Drop for ActiveConnection<'_> {
    fn drop(&mut self) {
        self.0.connection_closed();
    }
}

async fn connection(tcp: TcpStream, transport: Transport, shared: &Arc<Shared>) {
    shared.metrics.connection_opened();
    let _active = ActiveConnection(&shared.metrics);
    let deadline = Instant::now() + shared.config.handshake_timeout;
    let _ = tcp.set_nodelay(true);
    let local: Option<IpAddr> = tcp.local_addr().ok().map(|a| a.ip());
    let acceptor = match transport {
        Transport::Tls(acceptor) => acceptor,
        Transport::Reality(server) => {
            let accepted = server
                .accept(tcp, deadline, shared.config.idle_timeout, &shared.metrics)
                .await;
            if let Some(stream) = accepted {
                session::serve(stream, local, deadline, shared).await;
            }
            return;
        }
    };
    let tls = match tokio::time::timeout_at(deadline, acceptor.accept(ReadAhead::new(tcp))).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(_)) | Err(_) => {
            shared.metrics.failure(HandshakeFailure::Tls);
            return;
        }
    };
    session::serve(tls, local, deadline, shared).await;
}
