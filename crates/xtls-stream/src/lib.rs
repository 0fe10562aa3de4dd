//! REALITY + XTLS Vision as async byte streams, for both ends of a VLESS connection: the node
//! (server role), `milly client` and a node dialling the next node of a chain (client role),
//! and the tests that play either.
//!
//! The protocol lives in the sans-I/O crates (`reality`'s record layer, `vless::vision`);
//! this crate is the thin async layer over them, and the only one:
//!
//! - [`connect`] runs a REALITY client handshake on a socket; the node's accept side stays in
//!   the node (it mirrors strangers to `dest`). Either way the result is a [`RecordStream`].
//! - [`VisionStream`] pads and unpads Vision over such a stream ([`VisionStream::server`],
//!   [`VisionStream::client`]) and switches it to direct copy when the inner TLS is 1.3.
//! - [`Transport`] is what every stream tells a relay: can Vision go direct over it, and is its
//!   raw socket free for splice(2) right now.
//! - [`Relay`] copies both ways with half-close, idle timeout and, on Linux, splice(2) for
//!   directions in direct copy (pipes from a budget), reporting to a [`Meter`].
//! - One buffer policy ([`BUFFER_SIZE`], a per-thread pool) and one randomness source
//!   ([`random_below`]) for padding.
//!
//! No sockets are opened here and nothing is logged.
#![forbid(unsafe_code)]

mod buffer;
mod connect;
mod random;
mod record_stream;
mod relay;
mod transport;
mod vision;

pub use buffer::{give_buffer, take_buffer, BUFFER_SIZE, RECORD_READ_SIZE};
pub use connect::{connect, ConnectError};
pub use random::random_below;
pub use record_stream::{OuterTls, RecordStream};
pub use relay::{Meter, Moved, Relay, RelayEnd, Tally};
pub use transport::{Half, Transport};
pub use vision::VisionStream;
