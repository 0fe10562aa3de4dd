//! The VLESS data plane: TLS listener, user table fed by the control plane, relay, fallback to the website, safe egress.
//!
//! The binary builds a [`NodeConfig`], keeps an [`AccessTable`] up to date by pushing
//! [`AccessUpdate`]s into it (a snapshot, then changes), and runs [`Node::run`] on a listener
//! it bound. The node never logs a client address, a destination or a user id; it only counts
//! ([`MetricsSnapshot`]).
//!
//! ```no_run
//! # async fn serve() -> Result<(), Box<dyn std::error::Error>> {
//! use node::{AccessEntry, AccessTable, AccessUpdate, CancellationToken, Node, NodeConfig, TlsSource};
//!
//! let listen = "127.0.0.1:8443".parse()?;
//! let tls = TlsSource::SelfSigned { names: vec!["localhost".into()], persist: None };
//! let config = NodeConfig::new(listen, tls, "127.0.0.1:8080".parse()?);
//! let access = AccessTable::new();
//! access.apply(AccessUpdate::Snapshot {
//!     revision: 1,
//!     entries: vec![AccessEntry { key: vless::UserKey([7; 16]), expires_at: i64::MAX }],
//! });
//! let node = Node::new(config, access.clone())?;
//! let metrics = node.metrics();
//! let shutdown = CancellationToken::new();
//! let listener = tokio::net::TcpListener::bind(listen).await?;
//! node.run(listener, shutdown).await?;
//! println!("{:?}", metrics.snapshot());
//! # Ok(()) }
//! ```
//!
//! Layout: `server` accepts and limits connections and does the TLS handshake (a client
//! offering TLS 1.3 gets rustls's handshake and then `tls13`'s hand-over to the record layer
//! REALITY uses, so Vision works over TLS too; older clients keep rustls's stream), or with
//! [`TlsSource::Reality`] hands the connection to `reality` (mirror to `dest`, relay strangers
//! there, our own TLS 1.3 for REALITY clients, then crate `xtls-stream`'s `RecordStream`, and
//! its `VisionStream` for XTLS Vision and its direct copy, spliced on Linux by its `Relay`);
//! `session` reads the request over any byte stream (so REALITY can replace TLS; over TLS an
//! HTTP upgrade to an enabled transport's path is answered by `http_transport`, WebSocket or
//! HTTPUpgrade, and the request read inside it; XHTTP and gRPC, over TLS and REALITY, are
//! served by hyper in `http_transport::http_service`, HTTP/1.1 or HTTP/2, one VLESS connection
//! per session or call, other requests forwarded to the website; `plain_http` serves the same
//! transports in plain HTTP/1.1 and h2c behind a reverse proxy, `[node.http] listen`) and
//! dispatches to the relay (TCP), `udp` (the UDP command) or `mux` (Mux.Cool with XUDP,
//! mappings in `xudp`); everything else goes to `fallback`. `access` holds the users and
//! cuts their sessions, `egress` decides where users may go and connects out for them
//! (`egress::dial`), `budget` holds each user's sockets and each source address's connections
//! and handshakes within their caps. On an entry node of a chain `chain` carries every
//! request on to the exit instead; an exit accepts its entries' keys beside its users.
#![forbid(unsafe_code)]

pub mod access;
mod budget;
pub mod chain;
pub mod config;
pub mod egress;
mod fallback;
mod http_transport;
pub mod metrics;
mod mux;
mod plain_http;
mod prefixed;
mod read_ahead;
pub mod reality;
mod server;
mod session;
pub mod tls;
mod tls13;
mod udp;
mod xudp;

pub use access::{AccessEntry, AccessTable, AccessUpdate, Applied, TableBuilder, TableView};
pub use chain::Upstream;
pub use config::{CertificateResolver, NodeConfig, PersistedCert, TlsSource};
pub use http_transport::HttpTransports;
pub use metrics::{BudgetRefusal, Metrics, MetricsSnapshot};
pub use plain_http::PlainHttp;
pub use reality::RealitySettings;
pub use server::{Node, NodeError};
pub use tls::{generate_self_signed, CertificateError};
pub use tokio_util::sync::CancellationToken;
pub use xhttp::sessions::SessionLimits as XhttpSessionLimits;
