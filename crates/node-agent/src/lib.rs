//! A remote node's side of the control link: enrollment, the mutual-TLS feed into the node's access table and settings, and their cache on disk.
//!
//! [`enroll`] turns a join string into `DIR/node.toml` and the node's own credential (a key
//! pair and self-signed certificate made here, its TLS client certificate); the control plane
//! is trusted by the SHA-256 pin the join string carries. [`run`] then keeps a
//! [`node::AccessTable`] and the node's [`feed_wire::NodeSettings`] fed: from
//! `access.cache` and `settings.cache` at once, then over one long-lived connection (a
//! snapshot or the changes since the cached revision), dialling out again with backoff
//! whenever it drops. The table on disk holds user ids and expiry times only.
//!
//! Layout: `link` (dial, TLS, frames), `session` (one connection's conversation), `snapshot`
//! (chunks into one table), `state` (table, settings, epoch, cache writes), `cache` (the files),
//! `run` (reconnecting), `enroll`, `credential`, `config` (`node.toml`), `files` (private,
//! atomic writes).

mod cache;
mod config;
mod credential;
mod enroll;
mod files;
mod link;
mod run;
mod session;
mod snapshot;
mod state;

pub use cache::{CacheError, ACCESS_CACHE, SETTINGS_CACHE};
pub use config::{AgentConfig, ConfigError, Timing, DEFAULT_FALLBACK};
pub use credential::{Credential, CredentialError};
pub use enroll::{
    enroll, enroll_with, EnrollError, EnrollOptions, Enrolled, NODE_CERTIFICATE, NODE_KEY,
    NODE_TOML,
};
pub use link::LinkError;
pub use run::{run, RunError};
pub use state::{Feed, StatsSource};
