//! The control link's wire format, shared by the control plane and remote nodes: no sockets, no async.
//!
//! A node is enrolled with a [`JoinString`] (the control plane's address, the SHA-256
//! [`CertPin`] of its TLS certificate and a one-time [`JoinToken`]). Every connection is
//! mutual TLS (ALPN [`ALPN`]): the node trusts exactly the pinned certificate, the control
//! plane knows the node by the pin of the self-signed certificate it presented at `Join`.
//! Over the connection flow [frames](frame): a `u32` big-endian length, then a postcard
//! payload of at most [`MAX_FRAME`] bytes.
//!
//! The conversation:
//! - Enrollment: node → [`ToControl::Join`]; control → [`ToNode::Joined`] or
//!   [`ToNode::Refused`], then the control plane closes.
//! - Feed: node → [`ToControl::Hello`] (its protocol version and, from its cache, the epoch and
//!   revision it holds); control → [`ToNode::Refused`], or [`ToNode::Settings`] then either a
//!   snapshot ([`ToNode::SnapshotBegin`], [`ToNode::SnapshotChunk`]s of at most
//!   [`MAX_CHUNK_ENTRIES`] entries, [`ToNode::SnapshotEnd`]) or the [`ToNode::Changes`] since
//!   the node's revision; afterwards `Changes` and `Settings` as they happen and a
//!   [`ToNode::Ping`] every [`PING_INTERVAL`]. The node answers every `Ping` with
//!   [`ToControl::Pong`], reports [`ToControl::Applied`] after each snapshot or change it
//!   applied and [`ToControl::Stats`] now and then, and drops a link silent for
//!   [`SILENCE_LIMIT`].
//!
//! Only user ids and expiry times cross this link ([`WireEntry`]): no personal data.

pub mod frame;
mod join;
mod messages;
pub mod tls;

use std::time::Duration;

pub use domain::{CertPin, InvalidPin, JoinToken};
pub use frame::{decode_frame, encode_frame, FrameError, MAX_FRAME};
pub use join::{JoinError, JoinString, JOIN_PREFIX};
pub use messages::{
    HttpSettings, NodeSettings, Refusal, Resume, SecuritySettings, ToControl, ToNode, Upstream,
    WireEntry, MAX_CHUNK_ENTRIES,
};
pub use parse_outcome::Parse;

/// The version of this protocol, sent in [`ToControl::Join`] and [`ToControl::Hello`]; a control
/// plane that does not speak it answers [`Refusal::Unsupported`]. 2: settings carry the
/// node's place in entry → exit chains. 3: settings carry the HTTP transports' paths. 4: and
/// XHTTP's path and gRPC's service name (also for REALITY nodes).
pub const PROTOCOL_VERSION: u16 = 4;

/// The TLS application protocol (ALPN) both sides offer.
pub const ALPN: &[u8] = b"milly-feed/1";

/// How often the control plane pings a connected node.
pub const PING_INTERVAL: Duration = Duration::from_secs(15);

/// A link that carried nothing for this long is dead: the node reconnects.
pub const SILENCE_LIMIT: Duration = Duration::from_secs(45);
