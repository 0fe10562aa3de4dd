//! The control plane's side of the node link: its identity, node enrolment, and the access
//! feed and settings served to remote nodes over mutual TLS.
//!
//! - [`identity`]: the certificate nodes pin, shared through the store by every `milly serve`
//!   on one database, and the join strings that carry its pin.
//! - TLS is `feed_wire::tls`'s (1.3, a client certificate required); who the node is comes
//!   from the pin of that certificate, looked up through `app` after the handshake.
//! - [`hub`]: one poller per process that learns each new access revision and wakes sessions.
//! - [`session`]: one node's connection: `Join`, or `Hello` then settings, a snapshot or the
//!   changes since the node's revision, pings, reports; ends when the node is removed.
//! - [`server`]: the listener with a handshake deadline and a cap on connections.
#![forbid(unsafe_code)]

pub mod error;
pub mod hub;
pub mod identity;
pub mod server;
pub mod session;

pub use error::ControlError;
pub use hub::FeedHub;
pub use identity::ControlIdentity;
pub use server::serve;
