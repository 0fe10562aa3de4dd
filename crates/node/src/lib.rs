//! The VLESS data plane: TLS listener, user table fed by the control plane, relay, fallback to the website, safe egress.
//!
//! The binary builds a [`NodeConfig`], an [`AccessTable`] it keeps feeding with
//! [`AccessUpdate`]s, and runs [`Node::run`] on a bound listener. The node never logs a client
//! address, a destination or a user id; it only counts ([`MetricsSnapshot`]).
#![forbid(unsafe_code)]

pub mod access;
pub mod config;
pub mod egress;
mod fallback;
pub mod metrics;
mod mux;
mod read_ahead;
pub mod relay;
mod server;
mod session;
pub mod tls;
mod udp;
mod xudp;

pub use access::{AccessEntry, AccessTable, AccessUpdate, Applied};
pub use config::{NodeConfig, PersistedCert, TlsSource};
pub use metrics::{Metrics, MetricsSnapshot};
pub use server::{Node, NodeError};
pub use tls::{generate_self_signed, TlsError};
pub use tokio_util::sync::CancellationToken;
