//! Zero-copy TCP-to-TCP copying with splice(2) on Linux: socket → pipe → socket inside the
//! kernel, for XTLS Vision's direct copy (inner TLS records we neither read nor change) in the
//! node and in `milly client`. Elsewhere the crate is empty and callers copy through buffers.
//!
//! Callers decide *when* a direction may splice (nothing buffered above the sockets); this
//! crate only moves the bytes, one direction per [`Pipe`], and keeps idle empty pipes for reuse
//! ([`take_pipe`], [`give_pipe`]) so a relay need hold one only while bytes move.

#![forbid(unsafe_code)]

#[cfg(target_os = "linux")]
mod pipe;

#[cfg(target_os = "linux")]
mod pool;

#[cfg(target_os = "linux")]
pub use pipe::Pipe;
#[cfg(target_os = "linux")]
pub use pool::{give_pipe, pooled, take_pipe};
