//! A TLS 1.3 connection after its handshake as a byte stream, for either role: `reality`'s
//! record layer over the socket, one record decrypted per read, and Vision's switch to direct
//! copy (reads and writes bypassing the record layer). REALITY's own handshake ends here, and
//! so does the node's TLS security once rustls has run the handshake (`node::tls13`).

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use reality::{Received, RecordLayer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::buffer::{give_input, give_wire, take_input, take_wire, BUFFER_SIZE, WRITE_BATCH};
use crate::transport::{Half, Transport};

/// Room asked of the record layer for each socket read: two full records.
const READ_ROOM: usize = BUFFER_SIZE;

/// Whose handshake a [`RecordStream`] follows: the rules above it differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OuterTls {
    /// REALITY: every user's flow is Vision, and only XHTTP and gRPC ride it (as Xray-core).
    Reality,
    /// Ordinary TLS 1.3 (rustls's handshake): anything VLESS over TLS carries.
    Tls13,
}

/// Application data over [`RecordLayer`] on a socket `S`.
pub struct RecordStream<S> {
    io: S,
    layer: RecordLayer,
    outer: OuterTls,
    /// Decrypted bytes not yet handed to the reader, from `plain_pos`.
    plain: Vec<u8>,
    plain_pos: usize,
    /// Protected bytes not yet written to the socket, from `wire_pos`.
    wire: Vec<u8>,
    wire_pos: usize,
    read_closed: bool,
    close_sent: bool,
    /// XTLS Vision's direct copy: reads (after `raw`, the bytes the record layer had not
    /// decrypted) and writes bypass the record layer.
    read_direct: bool,
    raw: Vec<u8>,
    raw_pos: usize,
    write_direct: bool,
}

pub(crate) fn tls_error(e: reality::TlsError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

impl<S> RecordStream<S> {
    /// `layer` is what a REALITY handshake on `io` ended in (either role's).
    pub fn reality(io: S, layer: RecordLayer) -> Self {
        Self::over(io, layer, OuterTls::Reality)
    }

    /// `layer` is what a TLS 1.3 handshake run by rustls on `io` handed over, and `plaintext`
    /// the application data it already decrypted (what the peer sent right behind its
    /// Finished), read first; `peer_closed` when its close_notify came with them too.
    pub fn tls13(io: S, layer: RecordLayer, plaintext: Vec<u8>, peer_closed: bool) -> Self {
        let mut stream = Self::over(io, layer, OuterTls::Tls13);
        stream.plain = plaintext;
        stream.read_closed = peer_closed;
        stream
    }

    fn over(io: S, layer: RecordLayer, outer: OuterTls) -> Self {
        RecordStream {
            io,
            layer,
            outer,
            plain: Vec::new(),
            plain_pos: 0,
            wire: Vec::new(),
            wire_pos: 0,
            read_closed: false,
            close_sent: false,
            read_direct: false,
            raw: Vec::new(),
            raw_pos: 0,
            write_direct: false,
        }
    }

    /// From now on reads bypass the record layer: first the plaintext still held, then the
    /// received bytes not yet decrypted, then the socket itself.
    fn read_direct(&mut self) {
        if !self.read_direct {
            self.read_direct = true;
            // The opened record's rest comes before the raw bytes.
            self.plain.extend_from_slice(self.layer.plaintext());
            self.raw = self.layer.take_buffered();
            self.raw_pos = 0;
        }
    }
}

/// Direct mode hands out the socket once every byte the record layer held has been read, and
/// every byte it protected has been written.
impl<S: Transport> Transport for RecordStream<S> {
    fn can_go_direct(&self) -> bool {
        true
    }

    fn is_reality(&self) -> bool {
        self.outer == OuterTls::Reality
    }

    fn go_direct(&mut self, half: Half) {
        match half {
            Half::Read => self.read_direct(),
            Half::Write => self.write_direct = true,
        }
    }

    fn raw_socket(&self, half: Half) -> Option<&TcpStream> {
        let free = match half {
            Half::Read => {
                self.read_direct
                    && self.plain_pos >= self.plain.len()
                    && self.raw_pos >= self.raw.len()
            }
            Half::Write => self.write_direct && self.wire_pos >= self.wire.len(),
        };
        if free {
            self.io.raw_socket(half)
        } else {
            None
        }
    }
}

impl<S: AsyncWrite + Unpin> RecordStream<S> {
    /// Writes out every protected byte waiting in `wire`.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.wire_pos < self.wire.len() {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &self.wire[self.wire_pos..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.wire_pos += n;
        }
        // Back to the pool: an idle connection holds no buffer.
        give_wire(std::mem::take(&mut self.wire));
        self.wire_pos = 0;
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for RecordStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if crate::buffer::drain_pending(&mut this.plain, &mut this.plain_pos, buf) {
                return Poll::Ready(Ok(()));
            }
            if this.read_direct {
                if this.raw_pos < this.raw.len() {
                    let n = buf.remaining().min(this.raw.len() - this.raw_pos);
                    buf.put_slice(&this.raw[this.raw_pos..this.raw_pos + n]);
                    this.raw_pos += n;
                    return Poll::Ready(Ok(()));
                }
                return Pin::new(&mut this.io).poll_read(cx, buf);
            }
            // A record's plaintext is handed on from where it was decrypted.
            let held = this.layer.plaintext();
            if !held.is_empty() {
                let n = buf.remaining().min(held.len());
                buf.put_slice(&held[..n]);
                this.layer.consume(n);
                return Poll::Ready(Ok(()));
            }
            if this.read_closed {
                return Poll::Ready(Ok(()));
            }
            match this.layer.open().map_err(tls_error)? {
                Received::Data(_) | Received::Other => continue,
                Received::Closed => {
                    this.read_closed = true;
                    continue;
                }
                Received::NeedMore => {}
            }
            // Straight into the record layer's input, lent from this thread's pool and given
            // back while the peer is quiet, so an idle connection holds no buffer.
            if !this.layer.holds_input_buffer() {
                this.layer.lend_input(take_input());
            }
            let mut raw = ReadBuf::new(this.layer.room(READ_ROOM));
            match Pin::new(&mut this.io).poll_read(cx, &mut raw) {
                Poll::Pending => {
                    if let Some(input) = this.layer.release_if_empty() {
                        give_input(input);
                    }
                    return Poll::Pending;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(())) => {}
            }
            let got = raw.filled().len();
            if got == 0 {
                // The socket ended without close_notify: the peer has still finished sending.
                this.read_closed = true;
                continue;
            }
            this.layer.filled(got);
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for RecordStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        if this.write_direct {
            return Pin::new(&mut this.io).poll_write(cx, data);
        }
        if this.close_sent {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        let n = data.len().min(WRITE_BATCH);
        if this.wire.capacity() == 0 {
            this.wire = take_wire();
        }
        this.layer
            .write(&data[..n], &mut this.wire)
            .map_err(tls_error)?;
        // Start sending now; what the socket cannot take yet goes out on flush or next write.
        if let Poll::Ready(Err(e)) = this.poll_drain(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        if !this.close_sent && !this.write_direct {
            this.layer
                .write_close_notify(&mut this.wire)
                .map_err(tls_error)?;
            this.close_sent = true;
            ready!(this.poll_drain(cx))?;
        }
        Pin::new(&mut this.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use reality::CipherSuite;
    use tokio::io::{duplex, AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test]
    async fn a_connection_waiting_for_its_peer_holds_no_buffer() {
        let suite = CipherSuite::Aes128GcmSha256;
        let (a, b) = duplex(1 << 20);
        let mut writer = RecordStream::reality(a, reality::fuzzing::record_layer(suite, 1, 2));
        let mut reader = RecordStream::reality(b, reality::fuzzing::record_layer(suite, 2, 1));
        let data = vec![7u8; 40_000];
        writer.write_all(&data).await.unwrap();
        writer.flush().await.unwrap();
        let mut got = vec![0u8; data.len()];
        reader.read_exact(&mut got).await.unwrap();
        assert_eq!(got, data);
        // Nothing more comes: the read waits, and nothing is held meanwhile.
        let mut more = [0u8; 16];
        let waited = tokio::time::timeout(Duration::from_millis(50), reader.read(&mut more)).await;
        assert!(waited.is_err(), "nothing was sent, so the read waits");
        assert!(
            !reader.layer.holds_input_buffer(),
            "the record layer's input"
        );
        assert_eq!(reader.plain.capacity(), 0, "decrypted bytes");
        assert_eq!(writer.wire.capacity(), 0, "protected bytes");
    }
}
