//! XTLS Vision (`flow = "xtls-rprx-vision"`) for TCP requests over REALITY: the first packets
//! both ways in padding frames (`vless::Vision`), then, when the inner connection is TLS 1.3,
//! direct copy — the inner records go over the raw socket, past our record layer.
//!
//! [`VisionStream`] unpads what the client sends and pads what goes back, so the ordinary
//! relay (TCP) and Mux (XUDP, how Xray clients carry UDP under Vision) run over it unchanged.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use reality::Rng;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use vless::vision::{ReadMode, Vision, WriteMode};

use crate::reality_stream::RealityStream;
use crate::splice::RawSocket;

/// Bytes read from either side at a time.
const CHUNK: usize = 32 * 1024;

/// A transport that may leave its outer TLS for Vision's direct copy.
pub(crate) trait DirectCopy {
    /// Whether [`DirectCopy::read_direct`] and [`DirectCopy::write_direct`] work (REALITY's
    /// own record layer: yes; rustls: no, so Vision over TLS stays refused).
    fn can_go_direct(&self) -> bool {
        false
    }
    fn read_direct(&mut self) {}
    fn write_direct(&mut self) {}
}

impl<S> DirectCopy for tokio_rustls::server::TlsStream<S> {}

impl<S> DirectCopy for RealityStream<S> {
    fn can_go_direct(&self) -> bool {
        true
    }
    fn read_direct(&mut self) {
        RealityStream::read_direct(self);
    }
    fn write_direct(&mut self) {
        RealityStream::write_direct(self);
    }
}

fn random_below(n: u32) -> u32 {
    let mut bytes = [0u8; 4];
    reality::SystemRng.fill(&mut bytes);
    u32::from_le_bytes(bytes) % n.max(1)
}

fn bad_frame(e: vless::vision::UnknownCommand) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

/// A client stream with Vision inside, as a plain byte stream (for Mux over Vision).
pub(crate) struct VisionStream<'a, S> {
    inner: &'a mut S,
    vision: Vision,
    plain: Vec<u8>,
    plain_pos: usize,
    wire: Vec<u8>,
    wire_pos: usize,
    buf: Box<[u8]>,
    read_direct: bool,
    write_direct: bool,
    direct_after_drain: bool,
}

impl<'a, S> VisionStream<'a, S>
where
    S: AsyncRead + AsyncWrite + DirectCopy + Unpin,
{
    /// `rest` is what followed the request header (already Vision frames).
    pub(crate) fn new(inner: &'a mut S, user: [u8; 16], rest: &[u8]) -> io::Result<Self> {
        let mut stream = VisionStream {
            inner,
            vision: Vision::new(user),
            plain: Vec::new(),
            plain_pos: 0,
            wire: Vec::new(),
            wire_pos: 0,
            buf: vec![0; CHUNK].into_boxed_slice(),
            read_direct: false,
            write_direct: false,
            direct_after_drain: false,
        };
        stream.unpad(rest)?;
        Ok(stream)
    }

    fn unpad(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.read_direct {
            self.plain.extend_from_slice(bytes);
            return Ok(());
        }
        if self
            .vision
            .read(bytes, &mut self.plain)
            .map_err(bad_frame)?
            == ReadMode::Direct
        {
            self.inner.read_direct();
            self.read_direct = true;
        }
        Ok(())
    }

    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.wire_pos < self.wire.len() {
            let n = ready!(Pin::new(&mut *self.inner).poll_write(cx, &self.wire[self.wire_pos..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.wire_pos += n;
        }
        self.wire.clear();
        self.wire_pos = 0;
        if self.direct_after_drain {
            self.direct_after_drain = false;
            self.inner.write_direct();
            self.write_direct = true;
        }
        Poll::Ready(Ok(()))
    }
}

/// A direction is the raw socket's once Vision went direct for it and holds nothing more:
/// what the relay splices from then on is exactly what `poll_read`/`poll_write` would pass.
impl<S: RawSocket> RawSocket for VisionStream<'_, S> {
    fn read_socket(&self) -> Option<&TcpStream> {
        if !self.read_direct || self.plain_pos < self.plain.len() {
            return None;
        }
        self.inner.read_socket()
    }

    fn write_socket(&self) -> Option<&TcpStream> {
        if !self.write_direct || self.direct_after_drain || self.wire_pos < self.wire.len() {
            return None;
        }
        self.inner.write_socket()
    }
}

impl<S> AsyncRead for VisionStream<'_, S>
where
    S: AsyncRead + AsyncWrite + DirectCopy + Unpin,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.plain_pos < this.plain.len() {
                let n = out.remaining().min(this.plain.len() - this.plain_pos);
                out.put_slice(&this.plain[this.plain_pos..this.plain_pos + n]);
                this.plain_pos += n;
                if this.plain_pos == this.plain.len() {
                    this.plain.clear();
                    this.plain_pos = 0;
                }
                return Poll::Ready(Ok(()));
            }
            let mut raw = ReadBuf::new(&mut this.buf);
            ready!(Pin::new(&mut *this.inner).poll_read(cx, &mut raw))?;
            let n = raw.filled().len();
            if n == 0 {
                return Poll::Ready(Ok(()));
            }
            let bytes = this.buf[..n].to_vec();
            this.unpad(&bytes)?;
        }
    }
}

impl<S> AsyncWrite for VisionStream<'_, S>
where
    S: AsyncRead + AsyncWrite + DirectCopy + Unpin,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        if this.write_direct {
            return Pin::new(&mut *this.inner).poll_write(cx, data);
        }
        let mut rng = random_below;
        if this.vision.write(data, &mut rng, &mut this.wire) == WriteMode::Direct {
            this.direct_after_drain = true;
        }
        if let Poll::Ready(Err(e)) = this.poll_drain(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut *this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut *this.inner).poll_shutdown(cx)
    }
}
