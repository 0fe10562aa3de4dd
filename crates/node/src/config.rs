//! What the node needs to run: where it listens, its certificate, the fallback website, limits.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// How long a client has for the TLS handshake plus the VLESS request before it is handed to
/// the fallback.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a proxied connection may carry no bytes in either direction before it is closed.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(300);
/// Most simultaneous connections (proxied, fallback and handshaking together).
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// Most live Mux.Cool sessions on one connection (Xray's client opens 8 at a time by default).
pub const DEFAULT_MAX_MUX_SESSIONS: usize = 128;
/// Most outbound sockets (TCP, UDP, XUDP) one user holds across all their connections.
pub const DEFAULT_MAX_SOCKETS_PER_USER: usize = 512;
/// Most outbound sockets of the whole node.
pub const DEFAULT_MAX_SOCKETS: usize = 20_000;
/// Most pipes (two descriptors each) for Vision's direct copy, node-wide; a relay without one
/// copies through its buffer instead.
pub const DEFAULT_MAX_PIPES: usize = 4_096;
/// Most simultaneous connections from one client address (IPv4, or IPv6 /64).
pub const DEFAULT_MAX_CONNECTIONS_PER_SOURCE: usize = 256;
/// Most simultaneous unfinished handshakes from one client address.
pub const DEFAULT_MAX_HANDSHAKES_PER_SOURCE: usize = 32;
/// Most outbound connects under way at once for the whole node.
pub const DEFAULT_MAX_CONNECTS_IN_FLIGHT: usize = 256;
/// Most outbound connects under way at once for one connection (Mux sessions open in parallel).
pub const CONNECTS_IN_FLIGHT_PER_CONNECTION: usize = 8;
/// A stranger's relay to the website (or REALITY's dest) that moves no byte for this long ends.
pub const DEFAULT_FALLBACK_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// A stranger's relay to the website (or REALITY's dest) ends after this long whatever it does.
pub const DEFAULT_FALLBACK_MAX_LIFETIME: Duration = Duration::from_secs(600);

/// Where the node's certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// A PEM certificate chain and a PEM private key on disk (the operator's own certificate).
    Files { cert: PathBuf, key: PathBuf },
    /// A self-signed certificate for `names`. With `persist`, it is read from those files when
    /// they exist and written there when they don't, so clients see the same certificate after
    /// a restart.
    SelfSigned {
        names: Vec<String>,
        persist: Option<PersistedCert>,
    },
    /// A PEM certificate chain and key held in memory (tests, certificates from elsewhere).
    Pem { cert: String, key: String },
    /// No certificate of our own: REALITY, relaying everyone but our clients to `dest`.
    Reality(Box<crate::reality::RealitySettings>),
    /// Whatever this resolver presents at each handshake (an ACME certificate, swapped on
    /// renewal without a restart).
    Resolver(CertificateResolver),
}

/// A rustls certificate resolver shared with its owner; two are equal when they are the same.
#[derive(Clone)]
pub struct CertificateResolver(pub std::sync::Arc<dyn rustls::server::ResolvesServerCert>);

impl PartialEq for CertificateResolver {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for CertificateResolver {}

impl std::fmt::Debug for CertificateResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CertificateResolver")
    }
}

/// Files a generated self-signed certificate is kept in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersistedCert {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Everything [`crate::Node`] needs besides its listener, its access table and its shutdown
/// signal.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeConfig {
    /// The address the listener is bound to; the node refuses it as a destination.
    pub listen: SocketAddr,
    pub tls: TlsSource,
    /// The website (plain HTTP) that receives everything that is not a VLESS client of ours.
    pub fallback: SocketAddr,
    /// Time for the TLS handshake plus the VLESS request.
    pub handshake_timeout: Duration,
    /// A proxied connection that moves no byte for this long is closed.
    pub idle_timeout: Duration,
    /// Most simultaneous connections; further clients wait in the kernel's accept queue.
    pub max_connections: usize,
    /// Let users reach loopback, private and link-local networks (tests, trusted setups).
    pub allow_private_destinations: bool,
    /// More addresses of this machine that users must not reach (for example its public IP
    /// when `listen` is a wildcard address). The address a client connected to is always
    /// refused as well.
    pub own_addresses: Vec<IpAddr>,
    /// Let users reach SMTP ports (25, 465, 587); refused by default against spam.
    pub allow_smtp: bool,
    /// Most live Mux.Cool sessions on one connection; a `New` frame beyond it is refused.
    pub max_mux_sessions: usize,
    /// Most outbound sockets (TCP, UDP, XUDP) one user holds across all their connections.
    pub max_sockets_per_user: usize,
    /// Most outbound sockets of the whole node.
    pub max_sockets: usize,
    /// Most pipes for Vision's direct copy (splice), node-wide; beyond it relays copy through
    /// their buffers.
    pub max_pipes: usize,
    /// Most simultaneous connections from one client address (IPv4, or IPv6 /64).
    pub max_connections_per_source: usize,
    /// Most simultaneous unfinished handshakes from one client address.
    pub max_handshakes_per_source: usize,
    /// Most outbound connects under way at once for the whole node.
    pub max_connects_in_flight: usize,
    /// A stranger's relay to the fallback (or REALITY's dest) idle this long ends.
    pub fallback_idle_timeout: Duration,
    /// A stranger's relay to the fallback (or REALITY's dest) ends after this long.
    pub fallback_max_lifetime: Duration,
    /// Start the connection to the fallback website with a PROXY protocol v2 header carrying
    /// the stranger's address (for a website that accepts it).
    pub fallback_proxy_protocol: bool,
    /// An entry node of a chain: every user's connection goes on to this exit instead of out
    /// of this node (see `chain`).
    pub upstream: Option<crate::chain::Upstream>,
    /// The HTTP transports served on this port beside plain VLESS (over REALITY only XHTTP and
    /// gRPC).
    pub http: crate::http_transport::HttpTransports,
    /// How long and how large an XHTTP session may be while its download has not come.
    pub xhttp_sessions: xhttp::sessions::SessionLimits,
}

/// XHTTP's session limits on a node: Xray's timings and per-session sizes (a client's uploads
/// can run ahead of its download by up to 1 MiB: through a busy proxy the download may arrive
/// after much of a first burst), but at most 256 sessions waiting for their download at once,
/// so strangers who learned the path can pin at most 256 MiB for at most 30 s.
pub fn default_xhttp_sessions() -> xhttp::sessions::SessionLimits {
    xhttp::sessions::SessionLimits {
        max_half_open: 256,
        ..xhttp::sessions::SessionLimits::default()
    }
}

impl NodeConfig {
    /// A configuration with the default timeouts and limits, refusing private destinations.
    pub fn new(listen: SocketAddr, tls: TlsSource, fallback: SocketAddr) -> Self {
        Self {
            listen,
            tls,
            fallback,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            allow_private_destinations: false,
            own_addresses: Vec::new(),
            allow_smtp: false,
            max_mux_sessions: DEFAULT_MAX_MUX_SESSIONS,
            max_sockets_per_user: DEFAULT_MAX_SOCKETS_PER_USER,
            max_sockets: DEFAULT_MAX_SOCKETS,
            max_pipes: DEFAULT_MAX_PIPES,
            max_connections_per_source: DEFAULT_MAX_CONNECTIONS_PER_SOURCE,
            max_handshakes_per_source: DEFAULT_MAX_HANDSHAKES_PER_SOURCE,
            max_connects_in_flight: DEFAULT_MAX_CONNECTS_IN_FLIGHT,
            fallback_idle_timeout: DEFAULT_FALLBACK_IDLE_TIMEOUT,
            fallback_max_lifetime: DEFAULT_FALLBACK_MAX_LIFETIME,
            fallback_proxy_protocol: false,
            upstream: None,
            http: crate::http_transport::HttpTransports::default(),
            xhttp_sessions: default_xhttp_sessions(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_config_refuses_private_destinations_and_uses_the_default_limits() {
        let addr: SocketAddr = "127.0.0.1:8443".parse().unwrap();
        let tls = TlsSource::SelfSigned {
            names: vec!["localhost".into()],
            persist: None,
        };
        let config = NodeConfig::new(addr, tls, "127.0.0.1:8080".parse().unwrap());
        assert!(!config.allow_private_destinations);
        assert_eq!(config.handshake_timeout, DEFAULT_HANDSHAKE_TIMEOUT);
        assert_eq!(config.idle_timeout, DEFAULT_IDLE_TIMEOUT);
        assert_eq!(config.max_connections, DEFAULT_MAX_CONNECTIONS);
        assert_eq!(config.max_mux_sessions, DEFAULT_MAX_MUX_SESSIONS);
        assert!(!config.allow_smtp);
        assert!(!config.fallback_proxy_protocol);
    }
}
