//! XTLS Vision (`flow = "xtls-rprx-vision"`) over a [`Transport`], for either role: the first
//! packets both ways in padding frames (`vless::vision::Vision`), then, when the inner
//! connection is TLS 1.3, direct copy — the inner records go over the raw socket, past the
//! outer record layer.
//!
//! [`VisionStream`] unpads what the peer sends and pads what goes to it, so a relay (TCP) or
//! Mux (XUDP) runs over it as over any byte stream. The two roles differ only in the VLESS
//! header around it: the server has read the request and written its response before Vision
//! starts; the client sends its request with its first bytes and strips the server's response.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use vless::vision::{ReadMode, Vision, WriteMode};
use vless::{Parse, UserKey};

use crate::buffer::{give_wire, take_wire, BUFFER_SIZE};
use crate::random::random_below;
use crate::transport::{Half, Transport};

/// Which end of the VLESS connection this stream is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Sends the request with its first bytes and strips the server's response header.
    Client,
    /// The headers are already exchanged (the node's side).
    Server,
}

fn bad_frame(e: vless::vision::UnknownCommand) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

fn not_vless() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "the node did not answer as VLESS (is the link's user id still valid?)",
    )
}

/// Vision inside a stream `S`, as a plain byte stream.
pub struct VisionStream<S> {
    inner: S,
    vision: Vision,
    role: Role,
    /// Client: the request header, sent in front of the first frames.
    request: Vec<u8>,
    /// Client: the server's response header as far as it arrived; `None` once stripped.
    response: Option<Vec<u8>>,
    /// Inner bytes unpadded and not yet handed to the reader, from `plain_pos`.
    plain: Vec<u8>,
    plain_pos: usize,
    /// Bytes for `inner` not yet written, from `wire_pos`.
    wire: Vec<u8>,
    wire_pos: usize,
    /// Client: inner bytes waiting to complete a TLS record (see [`VisionStream::poll_write`]).
    held: Vec<u8>,
    buf: Box<[u8]>,
    read_direct: bool,
    write_direct: bool,
    direct_after_drain: bool,
}

impl<S> VisionStream<S>
where
    S: AsyncRead + AsyncWrite + Transport + Unpin,
{
    /// The node's side: `user` is the id exactly as the request carried it, `rest` what
    /// followed the request header (already Vision frames). The response header has been sent.
    pub fn server(inner: S, user: UserKey, rest: &[u8]) -> io::Result<Self> {
        let mut stream = VisionStream::new(inner, user, Role::Server, Vec::new());
        stream.unpad(rest)?;
        Ok(stream)
    }

    /// The client's side: `request` (the encoded VLESS request header, flow Vision) goes out
    /// in front of the first bytes written, or alone on the first flush.
    pub fn client(inner: S, user: UserKey, request: Vec<u8>) -> Self {
        VisionStream::new(inner, user, Role::Client, request)
    }

    fn new(inner: S, user: UserKey, role: Role, request: Vec<u8>) -> Self {
        VisionStream {
            inner,
            vision: Vision::new(user.0),
            role,
            request,
            response: (role == Role::Client).then(Vec::new),
            plain: Vec::new(),
            plain_pos: 0,
            wire: Vec::new(),
            wire_pos: 0,
            held: Vec::new(),
            buf: vec![0; BUFFER_SIZE].into_boxed_slice(),
            read_direct: false,
            write_direct: false,
            direct_after_drain: false,
        }
    }

    /// Whether Vision switched the reading side to direct copy.
    pub fn is_read_direct(&self) -> bool {
        self.read_direct
    }

    /// Whether Vision switched the writing side to direct copy.
    pub fn is_write_direct(&self) -> bool {
        self.write_direct || self.direct_after_drain
    }

    /// The stream underneath.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    fn take_response(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let Some(header) = &mut self.response else {
            return Ok(0);
        };
        let before = header.len();
        header.extend_from_slice(bytes);
        match vless::decode_response(header).map_err(|_| not_vless())? {
            Parse::NeedMore => Ok(bytes.len()),
            Parse::Done { consumed, .. } => {
                self.response = None;
                Ok(consumed - before)
            }
        }
    }

    fn unpad(&mut self, bytes: &[u8]) -> io::Result<()> {
        let bytes = &bytes[self.take_response(bytes)?..];
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
            self.inner.go_direct(Half::Read);
            self.read_direct = true;
        }
        Ok(())
    }

    /// Pads `data` (after the request header, if still unsent) into `wire`.
    fn pad(&mut self, data: &[u8]) {
        if self.wire.capacity() == 0 {
            self.wire = take_wire();
        }
        self.wire.append(&mut self.request);
        if self.vision.write(data, &mut random_below, &mut self.wire) == WriteMode::Direct {
            self.direct_after_drain = true;
        }
    }

    /// Client: on a flush, sends the request header (with an empty frame) if nothing was
    /// written yet; held bytes stay, since the rest of their record is on its way (TLS writes
    /// whole records) and padding half a record now would cost the switch to direct copy. At
    /// the end of the stream (`all`) everything held is padded.
    fn pad_held(&mut self, all: bool) {
        if all && !self.held.is_empty() {
            let held = std::mem::take(&mut self.held);
            self.pad(&held);
        } else if !self.request.is_empty() && self.held.is_empty() {
            self.pad(&[]);
        }
    }

    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            while self.wire_pos < self.wire.len() {
                let n =
                    ready!(Pin::new(&mut self.inner).poll_write(cx, &self.wire[self.wire_pos..]))?;
                if n == 0 {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                self.wire_pos += n;
            }
            // Back to the pool: an idle connection holds no buffer.
            give_wire(std::mem::take(&mut self.wire));
            self.wire_pos = 0;
            if !self.direct_after_drain {
                return Poll::Ready(Ok(()));
            }
            self.direct_after_drain = false;
            self.inner.go_direct(Half::Write);
            self.write_direct = true;
            // Held bytes after the last whole record go raw, right after the switch.
            self.wire.append(&mut self.held);
        }
    }
}

/// A direction is the raw socket's once Vision went direct for it and holds nothing more:
/// what a relay splices from then on is exactly what `poll_read`/`poll_write` would pass.
impl<S: Transport> Transport for VisionStream<S> {
    /// Vision does not nest.
    fn can_go_direct(&self) -> bool {
        false
    }
    fn is_reality(&self) -> bool {
        false
    }

    fn go_direct(&mut self, _: Half) {}

    fn raw_socket(&self, half: Half) -> Option<&TcpStream> {
        let free = match half {
            Half::Read => self.read_direct && self.plain_pos >= self.plain.len(),
            Half::Write => {
                self.write_direct
                    && !self.direct_after_drain
                    && self.wire_pos >= self.wire.len()
                    && self.held.is_empty()
            }
        };
        if free {
            self.inner.raw_socket(half)
        } else {
            None
        }
    }
}

impl<S> AsyncRead for VisionStream<S>
where
    S: AsyncRead + AsyncWrite + Transport + Unpin,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if crate::buffer::drain_pending(&mut this.plain, &mut this.plain_pos, out) {
                return Poll::Ready(Ok(()));
            }
            let mut raw = ReadBuf::new(&mut this.buf);
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut raw))?;
            let n = raw.filled().len();
            if n == 0 {
                if this.response.is_some() {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the node closed before its VLESS response",
                    )));
                }
                return Poll::Ready(Ok(()));
            }
            // The buffer is lent out while it is unpadded (an empty box allocates nothing).
            let buf = std::mem::take(&mut this.buf);
            let unpadded = this.unpad(&buf[..n]);
            this.buf = buf;
            unpadded?;
        }
    }
}

impl<S> AsyncWrite for VisionStream<S>
where
    S: AsyncRead + AsyncWrite + Transport + Unpin,
{
    /// The client holds back, while Vision pads an inner TLS session, a tail that does not
    /// complete a TLS record (until the write that completes it, or the end of the stream): Vision switches to direct copy
    /// only on a write of whole application-data records, and an application's writes rarely
    /// end on a record boundary. The node's side writes what it is given, as Xray-core does.
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        if this.write_direct {
            return Pin::new(&mut this.inner).poll_write(cx, data);
        }
        let hold = this.role == Role::Client
            && this.vision.write_mode() == WriteMode::Padded
            && this.vision.filter().is_tls();
        if hold {
            this.held.extend_from_slice(data);
            let whole = whole_records(&this.held).unwrap_or(this.held.len());
            if whole > 0 {
                let rest = this.held.split_off(whole);
                let records = std::mem::replace(&mut this.held, rest);
                this.pad(&records);
            }
        } else {
            this.pad(data);
        }
        if let Poll::Ready(Err(e)) = this.poll_drain(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        this.pad_held(false);
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        this.pad_held(true);
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

/// The length of the longest prefix of `buf` made of whole TLS records, `None` if `buf` does
/// not start like TLS records.
fn whole_records(buf: &[u8]) -> Option<usize> {
    const HEADER: usize = 5;
    let mut at = 0;
    while let Some(header) = buf.get(at..at + HEADER) {
        if !(20..=23).contains(&header[0]) || header[1] != 3 {
            return None;
        }
        let len = HEADER + usize::from(u16::from_be_bytes([header[3], header[4]]));
        if at + len > buf.len() {
            break;
        }
        at += len;
    }
    Some(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_records_stop_before_a_partial_record() {
        let mut buf = vec![0x17, 3, 3, 0, 2, 0xaa, 0xbb];
        assert_eq!(whole_records(&buf), Some(7));
        buf.extend_from_slice(&[0x17, 3, 3, 0, 9, 1]);
        assert_eq!(whole_records(&buf), Some(7));
        assert_eq!(whole_records(&buf[..3]), Some(0));
        assert_eq!(whole_records(b"GET / HTTP/1.1"), None);
    }
}
