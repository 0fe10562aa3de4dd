//! A WebSocket connection as a byte stream: client frames' payloads in (binary, text or
//! continuation alike, as Xray reads them), one binary frame per write out. Pings are answered,
//! a close frame ends the reading side and is answered once.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use parse_outcome::Parse;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use xtls_stream::{Half, Transport};

use super::frame::{self, Header};

/// Bytes read from the connection at a time.
const READ_CHUNK: usize = 16 * 1024;
/// The largest frame one write makes; longer writes are split.
const MAX_FRAME: usize = 64 * 1024;

pub(crate) struct WsStream<S> {
    inner: S,
    /// Raw bytes read and not yet used, from `rpos`.
    rbuf: Vec<u8>,
    rpos: usize,
    /// The data frame being read and how much of its payload is used.
    current: Option<(Header, u64)>,
    /// The client sent a close frame (or the connection ended): reading is over.
    read_closed: bool,
    /// Encoded frames not yet handed to `inner`, from `wpos`.
    wbuf: Vec<u8>,
    wpos: usize,
    /// A close frame is queued or sent: write no more.
    close_sent: bool,
}

impl<S> WsStream<S> {
    /// The stream over `inner` after the handshake; `leftover` is what was read past the
    /// request head (the first frames of a client that did not wait for the 101).
    pub(crate) fn new(inner: S, leftover: Vec<u8>) -> Self {
        WsStream {
            inner,
            rbuf: leftover,
            rpos: 0,
            current: None,
            read_closed: false,
            wbuf: Vec::new(),
            wpos: 0,
            close_sent: false,
        }
    }

    fn queue(&mut self, opcode: u8, payload: &[u8]) {
        if self.wpos == self.wbuf.len() {
            self.wbuf.clear();
            self.wpos = 0;
        }
        frame::encode_header(&mut self.wbuf, opcode, payload.len());
        self.wbuf.extend_from_slice(payload);
    }
}

fn invalid(e: frame::FrameError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

impl<S: AsyncWrite + Unpin> WsStream<S> {
    /// Hands queued frames to `inner` until none is left or it would block.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.wpos < self.wbuf.len() {
            match Pin::new(&mut self.inner).poll_write(cx, &self.wbuf[self.wpos..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => self.wpos += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        self.wbuf.clear();
        self.wpos = 0;
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for WsStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if this.read_closed || out.remaining() == 0 {
                return Poll::Ready(Ok(()));
            }
            let buffered = this.rbuf.len() - this.rpos;
            if let Some((header, used)) = this.current.as_mut() {
                let left = header.len - *used;
                if left == 0 {
                    this.current = None;
                    continue;
                }
                if buffered > 0 {
                    let n = usize::try_from(left)
                        .unwrap_or(usize::MAX)
                        .min(buffered)
                        .min(out.remaining());
                    let chunk = &mut this.rbuf[this.rpos..this.rpos + n];
                    frame::unmask(chunk, header.mask, *used);
                    out.put_slice(chunk);
                    this.rpos += n;
                    *used += n as u64;
                    return Poll::Ready(Ok(()));
                }
            } else {
                match frame::decode_header(&this.rbuf[this.rpos..]).map_err(invalid)? {
                    Parse::Done {
                        value: header,
                        consumed,
                    } if !header.is_control() => {
                        this.rpos += consumed;
                        this.current = Some((header, 0));
                        continue;
                    }
                    Parse::Done {
                        value: header,
                        consumed,
                    } => {
                        // A control frame is short: wait until it is here whole.
                        let end = this.rpos + consumed + header.len as usize;
                        if this.rbuf.len() >= end {
                            let mut payload = this.rbuf[this.rpos + consumed..end].to_vec();
                            frame::unmask(&mut payload, header.mask, 0);
                            this.rpos = end;
                            match header.opcode {
                                frame::PING if !this.close_sent => {
                                    this.queue(frame::PONG, &payload);
                                    // Sent now if the connection takes it, else before the
                                    // next frame we write.
                                    let _ = this.poll_drain(cx);
                                }
                                frame::CLOSE => {
                                    this.read_closed = true;
                                    if !this.close_sent {
                                        this.close_sent = true;
                                        let code = payload.get(..2).unwrap_or(&[0x03, 0xE8]);
                                        let code = code.to_vec();
                                        this.queue(frame::CLOSE, &code);
                                        let _ = this.poll_drain(cx);
                                    }
                                    return Poll::Ready(Ok(()));
                                }
                                _ => {}
                            }
                            continue;
                        }
                    }
                    Parse::NeedMore => {}
                }
            }
            // Need more bytes from the connection.
            if this.rpos > 0 {
                this.rbuf.drain(..this.rpos);
                this.rpos = 0;
            }
            let len = this.rbuf.len();
            this.rbuf.resize(len + READ_CHUNK, 0);
            let mut ahead = ReadBuf::new(&mut this.rbuf[len..]);
            let polled = Pin::new(&mut this.inner).poll_read(cx, &mut ahead);
            let got = ahead.filled().len();
            this.rbuf.truncate(len + got);
            match polled {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(())) if got == 0 => {
                    this.read_closed = true;
                    // Ending between frames is the client going away; inside one, a cut.
                    if this.current.is_some() || !this.rbuf.is_empty() {
                        return Poll::Ready(Err(io::ErrorKind::UnexpectedEof.into()));
                    }
                    return Poll::Ready(Ok(()));
                }
                Poll::Ready(Ok(())) => {}
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for WsStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.close_sent {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        if this.poll_drain(cx)?.is_pending() {
            return Poll::Pending;
        }
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let n = buf.len().min(MAX_FRAME);
        this.queue(frame::BINARY, &buf[..n]);
        // The frame is ours to deliver now; `poll_flush` finishes it if the socket is full.
        let _ = this.poll_drain(cx)?;
        Poll::Ready(Ok(n))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.poll_drain(cx)?.is_pending() {
            return Poll::Pending;
        }
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if !this.close_sent {
            // Nothing more comes from us: say so as WebSocket does (1000, normal closure).
            if this.poll_drain(cx)?.is_pending() {
                return Poll::Pending;
            }
            this.close_sent = true;
            this.queue(frame::CLOSE, &[0x03, 0xE8]);
        }
        if this.poll_drain(cx)?.is_pending() {
            return Poll::Pending;
        }
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

/// Framing transforms every byte: no direct copy, no raw socket.
impl<S> Transport for WsStream<S> {
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
    use tokio::io::{duplex, AsyncReadExt, AsyncWriteExt};

    fn client_frame(opcode: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
        let mut out = Vec::new();
        frame::encode_header(&mut out, opcode, payload.len());
        out[1] |= 0x80;
        out.extend_from_slice(&mask);
        let mut body = payload.to_vec();
        frame::unmask(&mut body, mask, 0);
        out.extend_from_slice(&body);
        out
    }

    #[tokio::test]
    async fn payloads_come_through_in_order_across_frames_pings_and_small_reads() {
        let (mut client, server) = duplex(1 << 20);
        let sent: Vec<u8> = (0..200_000u32).map(|i| (i % 241) as u8).collect();
        let mut wire = Vec::new();
        for (i, piece) in sent.chunks(70_001).enumerate() {
            wire.extend(client_frame(frame::BINARY, piece, [9, i as u8, 7, 3]));
            wire.extend(client_frame(frame::PING, b"hi", [1, 1, 1, 1]));
        }
        wire.extend(client_frame(frame::CLOSE, &[0x03, 0xE8], [5, 6, 7, 8]));
        // The first bytes arrive as leftover from the handshake's read.
        let leftover = wire[..5].to_vec();
        let mut ws = WsStream::new(server, leftover);
        client.write_all(&wire[5..]).await.unwrap();
        let mut got = Vec::new();
        let mut small = [0u8; 999];
        loop {
            let n = ws.read(&mut small).await.unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&small[..n]);
        }
        assert!(got == sent);
        ws.flush().await.unwrap();
        drop(ws);
        let mut answers = Vec::new();
        client.read_to_end(&mut answers).await.unwrap();
        // Three pongs (unmasked, echoing the payload), then our close.
        let pong = [0x8A, 2, b'h', b'i'];
        assert_eq!(&answers[..12], [pong, pong, pong].concat().as_slice());
        assert_eq!(&answers[12..], &[0x88, 2, 0x03, 0xE8]);
    }

    #[tokio::test]
    async fn writes_become_unmasked_binary_frames_and_shutdown_sends_close() {
        let (mut client, server) = duplex(1 << 20);
        let mut ws = WsStream::new(server, Vec::new());
        let payload = vec![0xAB; 100_000];
        ws.write_all(&payload).await.unwrap();
        ws.shutdown().await.unwrap();
        drop(ws);
        let mut wire = Vec::new();
        client.read_to_end(&mut wire).await.unwrap();
        // 65536 bytes (127-length form), then 34464 (126 form), then close.
        assert_eq!(&wire[..2], &[0x82, 127]);
        let first = 10 + MAX_FRAME;
        assert!(wire[10..first].iter().all(|&b| b == 0xAB));
        assert_eq!(&wire[first..first + 4], &[0x82, 126, 0x86, 0xA0]);
        let second = first + 4 + 34_464;
        assert_eq!(&wire[second..], &[0x88, 2, 0x03, 0xE8]);
    }

    #[tokio::test]
    async fn an_unmasked_client_frame_is_an_error_not_a_panic() {
        let (mut client, server) = duplex(1024);
        let mut ws = WsStream::new(server, Vec::new());
        client.write_all(&[0x82, 0x01, b'x']).await.unwrap();
        let mut buf = [0u8; 8];
        let err = ws.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }
}
