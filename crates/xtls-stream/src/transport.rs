//! What a stream offers beyond bytes: XTLS Vision's switch to direct copy, and its raw TCP
//! socket for splice(2) once nothing is buffered above it.

use tokio::io::DuplexStream;
use tokio::net::TcpStream;

/// One direction of a stream, as seen by whoever reads from and writes to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Half {
    Read,
    Write,
}

/// A byte stream a relay and Vision may run over.
///
/// Every implementation says all four things explicitly: there are no defaults to forget.
pub trait Transport {
    /// Whether Vision may switch this stream to direct copy: our own record layer can (it
    /// hands back what it has not decrypted: REALITY, and TLS 1.3 once rustls has run the
    /// handshake); rustls's own stream cannot, so Vision over it is refused.
    fn can_go_direct(&self) -> bool;

    /// Whether this is a REALITY connection itself (not a stream inside one): there every
    /// user's flow is Vision and only XHTTP and gRPC ride it, as in Xray-core.
    fn is_reality(&self) -> bool;

    /// From now on `half` bypasses the outer TLS. Only meaningful when
    /// [`Transport::can_go_direct`]; elsewhere it does nothing.
    fn go_direct(&mut self, half: Half);

    /// The TCP socket `half` reads from or writes to, if using it directly now is byte for byte
    /// what the next `poll_read` / `poll_write` would do (nothing buffered or transformed above
    /// it). What splice(2) may use.
    fn raw_socket(&self, half: Half) -> Option<&TcpStream>;
}

impl Transport for TcpStream {
    fn can_go_direct(&self) -> bool {
        false
    }
    fn is_reality(&self) -> bool {
        false
    }
    fn go_direct(&mut self, _: Half) {}
    fn raw_socket(&self, _: Half) -> Option<&TcpStream> {
        Some(self)
    }
}

/// rustls protects every byte itself: no direct copy, no raw socket.
impl<S> Transport for tokio_rustls::server::TlsStream<S> {
    fn can_go_direct(&self) -> bool {
        false
    }
    fn is_reality(&self) -> bool {
        false
    }
    fn go_direct(&mut self, _: Half) {}
    fn raw_socket(&self, _: Half) -> Option<&TcpStream> {
        None
    }
}

impl<S> Transport for tokio_rustls::client::TlsStream<S> {
    fn can_go_direct(&self) -> bool {
        false
    }
    fn is_reality(&self) -> bool {
        false
    }
    fn go_direct(&mut self, _: Half) {}
    fn raw_socket(&self, _: Half) -> Option<&TcpStream> {
        None
    }
}

/// In-memory pipes for tests: bytes only.
impl Transport for DuplexStream {
    fn can_go_direct(&self) -> bool {
        false
    }
    fn is_reality(&self) -> bool {
        false
    }
    fn go_direct(&mut self, _: Half) {}
    fn raw_socket(&self, _: Half) -> Option<&TcpStream> {
        None
    }
}

impl<T: Transport + ?Sized> Transport for &mut T {
    fn can_go_direct(&self) -> bool {
        (**self).can_go_direct()
    }
    fn is_reality(&self) -> bool {
        (**self).is_reality()
    }
    fn go_direct(&mut self, half: Half) {
        (**self).go_direct(half);
    }
    fn raw_socket(&self, half: Half) -> Option<&TcpStream> {
        (**self).raw_socket(half)
    }
}
