//! A VLESS byte stream made of HTTP bodies: what the client uploads (a request body, or
//! packet-up POSTs put in order) arrives on a channel, and what the node writes leaves as the
//! frames of a response body. gRPC wraps each write in a gun `Hunk`, and ends with its trailers.

use std::convert::Infallible;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_util::sync::PollSender;
use xtls_stream::{Half, Transport};

/// The most bytes one write puts in one body frame (and one gun message).
const MAX_WRITE: usize = 64 * 1024;
/// Response frames queued ahead of the HTTP connection: a slow client holds at most this many
/// writes of [`MAX_WRITE`].
pub(crate) const DOWNLOAD_QUEUE: usize = 4;
/// Upload chunks queued ahead of the VLESS session.
pub(crate) const UPLOAD_QUEUE: usize = 8;

/// How the node's writes become body bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// XHTTP: the bytes as they are.
    Raw,
    /// gRPC `Tun`: one `Hunk` message per write, then `grpc-status: 0` trailers.
    Hunk,
}

/// A response body fed by a channel; it ends when every sender is gone.
pub(crate) struct ChannelBody {
    frames: mpsc::Receiver<Frame<Bytes>>,
}

impl ChannelBody {
    pub(crate) fn new(queue: usize) -> (mpsc::Sender<Frame<Bytes>>, Self) {
        let (tx, frames) = mpsc::channel(queue);
        (tx, ChannelBody { frames })
    }
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.frames.poll_recv(cx).map(|frame| frame.map(Ok))
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

/// One VLESS connection carried in HTTP bodies.
pub(crate) struct HttpPipe {
    uploads: mpsc::Receiver<Bytes>,
    current: Bytes,
    download: PollSender<Frame<Bytes>>,
    framing: Framing,
    finished: bool,
}

impl HttpPipe {
    pub(crate) fn new(
        uploads: mpsc::Receiver<Bytes>,
        download: mpsc::Sender<Frame<Bytes>>,
        framing: Framing,
    ) -> Self {
        HttpPipe {
            uploads,
            current: Bytes::new(),
            download: PollSender::new(download),
            framing,
            finished: false,
        }
    }

    fn encode(&self, data: &[u8]) -> Bytes {
        match self.framing {
            Framing::Raw => Bytes::copy_from_slice(data),
            Framing::Hunk => {
                let mut out = Vec::with_capacity(data.len() + 16);
                // A write is at most MAX_WRITE bytes, far below gRPC's length limit.
                let _ = xhttp::gun::encode_hunk(data, &mut out);
                Bytes::from(out)
            }
        }
    }
}

fn broken() -> io::Error {
    io::ErrorKind::BrokenPipe.into()
}

impl AsyncRead for HttpPipe {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        while this.current.is_empty() {
            match this.uploads.poll_recv(cx) {
                Poll::Ready(Some(chunk)) => this.current = chunk,
                // The upload ended: end of stream.
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
        let n = this.current.len().min(out.remaining());
        out.put_slice(&this.current.split_to(n));
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for HttpPipe {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.finished {
            return Poll::Ready(Err(broken()));
        }
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        match self.download.poll_reserve(cx) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(_)) => return Poll::Ready(Err(broken())),
            Poll::Pending => return Poll::Pending,
        }
        let n = buf.len().min(MAX_WRITE);
        let frame = Frame::data(self.encode(&buf[..n]));
        match self.download.send_item(frame) {
            Ok(()) => Poll::Ready(Ok(n)),
            Err(_) => Poll::Ready(Err(broken())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Every write is a frame handed to the HTTP connection already.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.finished {
            return Poll::Ready(Ok(()));
        }
        if self.framing == Framing::Hunk {
            match self.download.poll_reserve(cx) {
                Poll::Ready(Ok(())) => {
                    let _ = self.download.send_item(Frame::trailers(grpc_ok()));
                }
                Poll::Ready(Err(_)) => {}
                Poll::Pending => return Poll::Pending,
            }
        }
        self.finished = true;
        self.download.close();
        Poll::Ready(Ok(()))
    }
}

/// The trailers of a gRPC call that ended well.
pub(crate) fn grpc_ok() -> http::HeaderMap {
    let mut trailers = http::HeaderMap::new();
    for (name, value) in xhttp::gun::TRAILERS_OK {
        trailers.insert(name, http::HeaderValue::from_static(value));
    }
    trailers
}

/// HTTP framing transforms every byte: no direct copy, no raw socket.
impl Transport for HttpPipe {
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

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn uploads_read_in_order_and_writes_leave_as_frames() {
        let (up_tx, up_rx) = mpsc::channel(4);
        let (down_tx, mut body) = ChannelBody::new(4);
        let mut pipe = HttpPipe::new(up_rx, down_tx, Framing::Raw);
        up_tx.send(Bytes::from_static(b"hel")).await.unwrap();
        up_tx.send(Bytes::from_static(b"lo")).await.unwrap();
        drop(up_tx);
        let mut read = Vec::new();
        pipe.read_to_end(&mut read).await.unwrap();
        assert_eq!(read, b"hello");

        pipe.write_all(b"back").await.unwrap();
        pipe.shutdown().await.unwrap();
        drop(pipe);
        let frame = body.frame().await.unwrap().unwrap();
        assert_eq!(frame.into_data().unwrap(), Bytes::from_static(b"back"));
        assert!(body.frame().await.is_none());
    }

    #[tokio::test]
    async fn grpc_writes_are_hunks_and_end_with_status_zero() {
        let (_up_tx, up_rx) = mpsc::channel(1);
        let (down_tx, mut body) = ChannelBody::new(4);
        let mut pipe = HttpPipe::new(up_rx, down_tx, Framing::Hunk);
        pipe.write_all(b"abc").await.unwrap();
        pipe.shutdown().await.unwrap();
        let data = body.frame().await.unwrap().unwrap().into_data().unwrap();
        let mut expected = Vec::new();
        xhttp::gun::encode_hunk(b"abc", &mut expected).unwrap();
        assert_eq!(data.as_ref(), expected.as_slice());
        let trailers = body
            .frame()
            .await
            .unwrap()
            .unwrap()
            .into_trailers()
            .unwrap();
        assert_eq!(trailers["grpc-status"], "0");
    }

    #[tokio::test]
    async fn a_gone_response_breaks_the_write() {
        let (_up_tx, up_rx) = mpsc::channel(1);
        let (down_tx, body) = ChannelBody::new(1);
        drop(body);
        let mut pipe = HttpPipe::new(up_rx, down_tx, Framing::Raw);
        let err = pipe.write_all(b"x").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    }
}
