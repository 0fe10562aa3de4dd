//! A socket wrapper that reads ahead into a pooled buffer, so the TLS layer's small reads cost
//! one system call per buffer rather than one per record; the buffer goes back to the pool as
//! soon as it is drained, so an idle connection holds none.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use xtls_stream::{give_buffer, take_buffer};

pub(crate) struct ReadAhead<T> {
    inner: T,
    buf: Option<Box<[u8]>>,
    pos: usize,
    end: usize,
}

impl<T> ReadAhead<T> {
    pub(crate) fn new(inner: T) -> Self {
        ReadAhead {
            inner,
            buf: None,
            pos: 0,
            end: 0,
        }
    }

    fn release(&mut self) {
        if let Some(buf) = self.buf.take() {
            give_buffer(buf);
        }
        self.pos = 0;
        self.end = 0;
    }

    /// Copies buffered bytes into `out`; gives the buffer back once it is drained.
    fn drain_into(&mut self, out: &mut ReadBuf<'_>) {
        if let Some(buf) = self.buf.as_deref() {
            let n = out.remaining().min(self.end - self.pos);
            out.put_slice(&buf[self.pos..self.pos + n]);
            self.pos += n;
        }
        if self.pos >= self.end {
            self.release();
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ReadAhead<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.pos < this.end {
            this.drain_into(out);
            return Poll::Ready(Ok(()));
        }
        let mut buf = this.buf.take().unwrap_or_else(take_buffer);
        if out.remaining() >= buf.len() {
            // The caller's buffer is at least as large: no point in copying.
            give_buffer(buf);
            return Pin::new(&mut this.inner).poll_read(cx, out);
        }
        let mut ahead = ReadBuf::new(&mut buf);
        match Pin::new(&mut this.inner).poll_read(cx, &mut ahead) {
            Poll::Pending => {
                give_buffer(buf);
                Poll::Pending
            }
            Poll::Ready(Err(e)) => {
                give_buffer(buf);
                Poll::Ready(Err(e))
            }
            Poll::Ready(Ok(())) => {
                let n = ahead.filled().len();
                this.buf = Some(buf);
                this.pos = 0;
                this.end = n;
                this.drain_into(out);
                Poll::Ready(Ok(()))
            }
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ReadAhead<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl<T> Drop for ReadAhead<T> {
    fn drop(&mut self) {
        self.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{duplex, AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn small_reads_see_every_byte_in_order() {
        let (mut far, near) = duplex(1 << 16);
        let mut reader = ReadAhead::new(near);
        let sent: Vec<u8> = (0..50_000u32).map(|i| (i % 253) as u8).collect();
        let copy = sent.clone();
        let writer = tokio::spawn(async move {
            far.write_all(&copy).await.unwrap();
            far.shutdown().await.unwrap();
        });
        let mut got = Vec::new();
        let mut small = [0u8; 777];
        loop {
            let n = reader.read(&mut small).await.unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&small[..n]);
        }
        writer.await.unwrap();
        assert!(got == sent);
        assert!(reader.buf.is_none(), "a drained reader holds no buffer");
    }
}
