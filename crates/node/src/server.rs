//! The accept loop: connection limit, TLS handshake, one task per connection, graceful shutdown.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::access::AccessTable;
use crate::budget::{SocketBudget, SourceSlot, SourceTable};
use crate::chain::Chain;
use crate::config::{NodeConfig, TlsSource};
use crate::egress::{self, EgressPolicy};
use crate::fallback::{FallbackLimits, Origin};
use crate::http_transport::XhttpTable;
use crate::metrics::{HandshakeFailure, Metrics};
use crate::plain_http::{self, PlainHttp};
use crate::prefixed::Prefixed;
use crate::read_ahead::ReadAhead;
use crate::reality::RealityServer;
use crate::session;
use crate::tls::{self, CertificateError};
use crate::tls13::{self, FirstFlight};
use crate::xudp::{self, XudpTable};

/// How often the node re-reads this machine's interface addresses.
const OWN_ADDRESSES_REFRESH: Duration = Duration::from_secs(60);
/// Pause after a failed `accept` (for example out of file descriptors) before trying again.
pub(crate) const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// How often half-open XHTTP sessions are checked against their limits (which are seconds).
const XHTTP_SWEEP_EVERY: Duration = Duration::from_millis(250);

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("TLS setup failed: {0}")]
    Certificate(#[from] CertificateError),
    #[error("max_connections must be at least 1")]
    NoConnectionsAllowed,
    #[error("{0} must be at least 1")]
    ZeroLimit(&'static str),
}

/// What every connection task reads.
pub(crate) struct Shared {
    pub(crate) config: NodeConfig,
    pub(crate) access: AccessTable,
    /// An exit's entry nodes' keys, kept up to date from outside like `access`.
    pub(crate) peers: AccessTable,
    /// An entry's way to its exit.
    pub(crate) chain: Option<Chain>,
    pub(crate) metrics: Arc<Metrics>,
    /// Where users may go; its list of this machine's addresses is refreshed while running.
    egress: ArcSwap<EgressPolicy>,
    pub(crate) xudp: XudpTable,
    /// XHTTP sessions, whose requests may come over several connections.
    pub(crate) xhttp: XhttpTable,
    /// Outbound sockets per user and in total.
    pub(crate) sockets: Arc<SocketBudget>,
    /// Connections and handshakes per client address.
    pub(crate) sources: Arc<SourceTable>,
    /// Outbound connects under way, node-wide.
    pub(crate) connects: Arc<Semaphore>,
    /// Pipes for Vision's direct copy (two descriptors each); without one a relay copies
    /// through its buffer.
    pub(crate) pipes: Arc<Semaphore>,
}

impl Shared {
    /// The egress policy in force now.
    pub(crate) fn egress(&self) -> Arc<EgressPolicy> {
        self.egress.load_full()
    }

    /// The policy for this node's configuration and this machine's current addresses.
    fn egress_policy(config: &NodeConfig) -> EgressPolicy {
        let mut own = config.own_addresses.clone();
        if !config.listen.ip().is_unspecified() {
            own.push(config.listen.ip());
        }
        own.extend(egress::local_addresses());
        own.sort();
        own.dedup();
        EgressPolicy {
            allow_private: config.allow_private_destinations,
            own,
            allow_smtp: config.allow_smtp,
        }
    }
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
        Self::with_peers(config, access, AccessTable::new())
    }

    /// A node that is also the exit of entry nodes whose keys are in `peers` (entries that
    /// never expire, updated while the node runs; a removed key's connections are cut). A
    /// whole entry's users arrive under its key from its address, so a peer key is held only
    /// to the node-wide socket cap and an address that presented one lately only to the
    /// node-wide connection cap (`budget`).
    pub fn with_peers(
        config: NodeConfig,
        access: AccessTable,
        peers: AccessTable,
    ) -> Result<Self, NodeError> {
        if config.max_connections == 0 {
            return Err(NodeError::NoConnectionsAllowed);
        }
        for (name, value) in [
            ("max_mux_sessions", config.max_mux_sessions),
            ("max_sockets_per_user", config.max_sockets_per_user),
            ("max_sockets", config.max_sockets),
            (
                "max_connections_per_source",
                config.max_connections_per_source,
            ),
            (
                "max_handshakes_per_source",
                config.max_handshakes_per_source,
            ),
            ("max_connects_in_flight", config.max_connects_in_flight),
        ] {
            if value == 0 {
                return Err(NodeError::ZeroLimit(name));
            }
        }
        let acceptor = match &config.tls {
            TlsSource::Reality(settings) => {
                Transport::Reality(Arc::new(RealityServer::new(settings)))
            }
            source => {
                let mut tls = (*tls::server_config(source)?).clone();
                // XHTTP and gRPC clients speak HTTP/2; browsers then do too, and the website
                // gets their requests through the node (`http_transport::website`).
                if config.http.h2_based() {
                    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
                }
                Transport::Tls(TlsAcceptor::from(Arc::new(tls)))
            }
        };
        let egress = ArcSwap::from_pointee(Shared::egress_policy(&config));
        let xhttp_sessions = config.xhttp_sessions;
        Ok(Self {
            shared: Arc::new(Shared {
                sockets: SocketBudget::new(
                    config.max_sockets_per_user,
                    config.max_sockets,
                    peers.clone(),
                ),
                peers,
                chain: config.upstream.clone().map(Chain::new),
                sources: SourceTable::new(
                    config.max_connections_per_source,
                    config.max_handshakes_per_source,
                ),
                connects: Arc::new(Semaphore::new(config.max_connects_in_flight)),
                pipes: Arc::new(Semaphore::new(config.max_pipes)),
                config,
                access,
                metrics: Arc::new(Metrics::default()),
                egress,
                xudp: XudpTable::default(),
                xhttp: XhttpTable::new(xhttp_sessions),
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
        self.run_with(listener, None, shutdown).await
    }

    /// [`Self::run`], serving the HTTP transports on `plain` too (`[node.http] listen`, for a
    /// reverse proxy in front), within the same connection cap and budgets.
    pub async fn run_with(
        self,
        listener: TcpListener,
        plain: Option<PlainHttp>,
        shutdown: CancellationToken,
    ) -> Result<(), NodeError> {
        let limit = Arc::new(Semaphore::new(self.shared.config.max_connections));
        let tasks = TaskTracker::new();
        if let Some(plain) = plain {
            tasks.spawn(plain_http::accept_loop(
                plain,
                self.shared.clone(),
                limit.clone(),
                tasks.clone(),
                shutdown.child_token(),
            ));
        }
        tasks.spawn(
            self.shared
                .access
                .clone()
                .enforce_expiry(shutdown.child_token()),
        );
        tasks.spawn(sweep_xudp(self.shared.clone(), shutdown.child_token()));
        if self.shared.config.http.xhttp.is_some() {
            tasks.spawn(sweep_xhttp(self.shared.clone(), shutdown.child_token()));
        }
        tasks.spawn(refresh_own_addresses(
            self.shared.clone(),
            shutdown.child_token(),
        ));
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
            // The peer address is only counted in memory (per-source caps) and handed to the
            // fallback website when PROXY protocol is on: the node keeps no record of clients.
            let (tcp, peer) = match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(kind = ?e.kind(), "accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            };
            let slot = match self.shared.sources.admit(peer.ip()) {
                Ok(slot) => slot,
                Err(refusal) => {
                    self.shared.metrics.refused(refusal);
                    drop(tcp);
                    continue;
                }
            };
            let shared = self.shared.clone();
            let acceptor = self.acceptor.clone();
            let stop = shutdown.clone();
            tasks.spawn(async move {
                tokio::select! {
                    _ = stop.cancelled() => {}
                    _ = connection(tcp, peer, slot, acceptor, &shared) => {}
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

/// Re-reads this machine's interface addresses now and then, so an address gained while
/// running (DHCP, a new IPv6 address) is refused as a destination too.
async fn refresh_own_addresses(shared: Arc<Shared>, stop: CancellationToken) {
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(OWN_ADDRESSES_REFRESH) => {
                // Listing interfaces is one netlink round trip, quick enough to do here.
                let policy = Shared::egress_policy(&shared.config);
                shared.egress.store(Arc::new(policy));
            }
        }
    }
}

/// Closes parked XUDP sockets on time even when no session touches the table.
async fn sweep_xudp(shared: Arc<Shared>, stop: CancellationToken) {
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(xudp::SWEEP_EVERY) => shared.xudp.sweep(),
        }
    }
}

/// Ends XHTTP sessions whose download did not come in time, even when no request arrives.
async fn sweep_xhttp(shared: Arc<Shared>, stop: CancellationToken) {
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(XHTTP_SWEEP_EVERY) => {
                shared.xhttp.expire();
            }
        }
    }
}

/// Counts a connection as active for as long as it lives.
pub(crate) struct ActiveConnection<'a>(pub(crate) &'a Metrics);

impl Drop for ActiveConnection<'_> {
    fn drop(&mut self) {
        self.0.connection_closed();
    }
}

async fn connection(
    tcp: TcpStream,
    peer: SocketAddr,
    mut slot: SourceSlot,
    transport: Transport,
    shared: &Arc<Shared>,
) {
    shared.metrics.connection_opened();
    let _active = ActiveConnection(&shared.metrics);
    let deadline = Instant::now() + shared.config.handshake_timeout;
    let _ = tcp.set_nodelay(true);
    let local_addr = tcp.local_addr().ok();
    let local: Option<IpAddr> = local_addr.map(|a| a.ip());
    let origin = local_addr.map(|local| Origin { peer, local });
    let acceptor = match transport {
        Transport::Tls(acceptor) => acceptor,
        Transport::Reality(server) => {
            let limits = FallbackLimits::of(&shared.config);
            let accepted = server
                .accept(
                    tcp,
                    deadline,
                    limits,
                    &mut slot,
                    &shared.metrics,
                    &shared.pipes,
                )
                .await;
            if let Some(stream) = accepted {
                session::serve(stream, local, origin, &mut slot, deadline, shared).await;
            }
            return;
        }
    };
    let mut tcp = tcp;
    let first = match tls13::read_first_flight(&mut tcp, deadline).await {
        Ok(FirstFlight::Tls13(first)) => {
            match tls13::accept(tcp, acceptor.config().clone(), first, deadline).await {
                Ok(stream) => {
                    session::serve(stream, local, origin, &mut slot, deadline, shared).await
                }
                Err(_) => shared.metrics.failure(HandshakeFailure::Tls),
            }
            return;
        }
        Ok(FirstFlight::Other(first)) => first,
        Err(_) => {
            shared.metrics.failure(HandshakeFailure::Tls);
            return;
        }
    };
    let tcp = ReadAhead::new(Prefixed::new(first, tcp));
    let tls = match tokio::time::timeout_at(deadline, acceptor.accept(tcp)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(_)) | Err(_) => {
            shared.metrics.failure(HandshakeFailure::Tls);
            return;
        }
    };
    session::serve(tls, local, origin, &mut slot, deadline, shared).await;
}
