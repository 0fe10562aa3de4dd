//! Sans-I/O core of Xray-core's XHTTP transport (`splithttp`) and of gRPC "gun", server side.
//!
//! No sockets, no async, no clock: the node's HTTP front door (not wired yet) parses HTTP
//! itself, hands each request's method, path, query and headers to [`request::classify`], and
//! drives the rest with the time it passes in.
//!
//! - [`request`]: which XHTTP request this is (stream-one, stream-up, packet-up with its
//!   sequence number, or the download GET) and its session id, placed as Xray's clients place
//!   them; `x_padding` checked on requests and made for responses; the response headers Xray
//!   sends.
//! - [`upload`]: the packet-up reorder buffer, bounded in packets and bytes.
//! - [`sessions`]: uploads and downloads paired by session id, with the limits that keep a
//!   session whose download never comes (half-open) from pinning memory, and `expire(now)`.
//!   Sessions know nothing of connections, so XMUX (a client carrying many sessions over one
//!   HTTP/2 connection, or one session's requests over several) needs nothing more here.
//! - [`gun`]: gRPC's 5-byte message prefix and the `Hunk` / `MultiHunk` protobuf of Xray's
//!   `/<serviceName>/Tun` and `TunMulti`, decoded incrementally ([`Parse`]).
#![forbid(unsafe_code)]

pub mod gun;
pub mod request;
pub mod sessions;
pub mod upload;

pub use parse_outcome::Parse;
