//! Zero-copy relaying with splice(2): once XTLS Vision has switched a direction to direct copy,
//! its bytes are inner TLS records that we neither read nor change, so on Linux they go socket
//! → pipe → socket inside the kernel instead of through a userspace buffer.
//!
//! [`RawSocket`] is what a relay side offers for this: its TCP socket, but only while nothing
//! is buffered above it (Vision's and REALITY's buffers drained, direct mode on), so splicing
//! from or to it is byte for byte what the userspace copy would have done. Elsewhere, and when
//! a side is not fully direct yet, the relay keeps copying through its buffers.

use tokio::net::TcpStream;

/// A relay side that may expose its raw TCP socket for splice(2).
#[cfg_attr(not(target_os = "linux"), allow(dead_code))] // only splice asks
pub(crate) trait RawSocket {
    /// The socket this side reads from, if reading it directly now yields exactly the bytes
    /// the next `poll_read` would (no byte buffered or transformed above the socket).
    fn read_socket(&self) -> Option<&TcpStream> {
        None
    }

    /// The socket this side writes to, if writing to it directly now is exactly what the next
    /// `poll_write` would do (nothing waiting to go out before, no transformation).
    fn write_socket(&self) -> Option<&TcpStream> {
        None
    }
}

impl RawSocket for TcpStream {
    fn read_socket(&self) -> Option<&TcpStream> {
        Some(self)
    }

    fn write_socket(&self) -> Option<&TcpStream> {
        Some(self)
    }
}

impl<S> RawSocket for tokio_rustls::server::TlsStream<S> {}

#[cfg(test)]
impl RawSocket for tokio::io::DuplexStream {}

#[cfg(target_os = "linux")]
pub(crate) use splice_copy::Pipe;
