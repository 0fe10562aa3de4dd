//! XTLS Vision (`flow = "xtls-rprx-vision"`) for TCP requests over REALITY: the first packets
//! both ways in padding frames (`vless::Vision`), then, when the inner connection is TLS 1.3,
//! direct copy — the inner records go over the raw socket, past our record layer.
//!
//! TCP requests use [`relay`]. Mux (XUDP, how Xray clients carry UDP under Vision) runs over
//! a [`VisionStream`], which unpads and pads the Mux connection's bytes.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use reality::Rng;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use vless::vision::{ReadMode, Vision, WriteMode};

use crate::metrics::Metrics;
use crate::reality_stream::RealityStream;

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

/// Relays `client` (Vision inside) ⇄ `remote` (plain) until both directions end, an error,
/// or `idle` without a byte. `user` is the id from the request header, `rest` the bytes that
/// came after it, `response` the VLESS response header.
pub(crate) async fn relay<S, R>(
    client: &mut S,
    remote: &mut R,
    user: [u8; 16],
    rest: Vec<u8>,
    response: Vec<u8>,
    idle: Duration,
    metrics: &Metrics,
) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + DirectCopy + Unpin,
    R: AsyncRead + AsyncWrite + Unpin,
{
    let mut vision = Vision::new(user);
    let mut rng = random_below;
    let mut out = Vec::new();
    client.write_all(&response).await?;
    client.flush().await?;
    let (mut up, mut down) = (0u64, 0u64);
    let mut up_direct = false;
    let mut down_direct = false;
    if !rest.is_empty() {
        if vision.read(&rest, &mut out).map_err(bad_frame)? == ReadMode::Direct {
            client.read_direct();
            up_direct = true;
        }
        remote.write_all(&out).await?;
        up += out.len() as u64;
    }
    let mut from_client = vec![0u8; CHUNK];
    let mut from_remote = vec![0u8; CHUNK];
    let (mut up_done, mut down_done) = (false, false);
    let result = loop {
        if up_done && down_done {
            break Ok(());
        }
        let step = tokio::time::timeout(idle, async {
            tokio::select! {
                read = client.read(&mut from_client), if !up_done => {
                    let n = read?;
                    if n == 0 {
                        up_done = true;
                        return remote.shutdown().await;
                    }
                    let bytes = &from_client[..n];
                    if up_direct {
                        remote.write_all(bytes).await?;
                        up += n as u64;
                        return Ok(());
                    }
                    out.clear();
                    let mode = vision.read(bytes, &mut out).map_err(bad_frame)?;
                    if mode == ReadMode::Direct {
                        client.read_direct();
                        up_direct = true;
                    }
                    remote.write_all(&out).await?;
                    up += out.len() as u64;
                    Ok(())
                }
                read = remote.read(&mut from_remote), if !down_done => {
                    let n = read?;
                    if n == 0 {
                        down_done = true;
                        return client.shutdown().await;
                    }
                    down += n as u64;
                    let bytes = &from_remote[..n];
                    if down_direct {
                        return client.write_all(bytes).await;
                    }
                    out.clear();
                    let mode = vision.write(bytes, &mut rng, &mut out);
                    client.write_all(&out).await?;
                    client.flush().await?;
                    if mode == WriteMode::Direct {
                        client.write_direct();
                        down_direct = true;
                    }
                    Ok(())
                }
            }
        })
        .await;
        match step {
            Ok(Ok(())) => {}
            Ok(Err(e)) => break Err(e),
            Err(_idle) => break Ok(()),
        }
    };
    metrics.add_bytes(up, down);
    result
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
