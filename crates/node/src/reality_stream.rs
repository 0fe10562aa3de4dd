//! A REALITY connection after its handshake as a byte stream: the record layer over the TCP
//! socket, one record decrypted per read, so `session::serve` runs over it as over TLS.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use reality::{Received, RecordLayer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::splice::RawSocket;

/// Bytes read from the socket at a time (a full TLS record plus its header).
const READ_CHUNK: usize = 16 * 1024 + 256;

/// Application data over [`RecordLayer`] on a socket `S`.
pub(crate) struct RealityStream<S> {
    io: S,
    layer: RecordLayer,
    /// Decrypted bytes not yet handed to the reader, from `plain_pos`.
    plain: Vec<u8>,
    plain_pos: usize,
    /// Protected bytes not yet written to the socket, from `wire_pos`.
    wire: Vec<u8>,
    wire_pos: usize,
    read_buf: Box<[u8]>,
    read_closed: bool,
    close_sent: bool,
    /// XTLS Vision's direct copy: reads (after `raw`, the bytes the record layer had not
    /// decrypted) and writes bypass the record layer.
    read_direct: bool,
    raw: Vec<u8>,
    raw_pos: usize,
    write_direct: bool,
}

impl<S> RealityStream<S> {
    pub(crate) fn new(io: S, layer: RecordLayer) -> Self {
        RealityStream {
            io,
            layer,
            plain: Vec::new(),
            plain_pos: 0,
            wire: Vec::new(),
            wire_pos: 0,
            read_buf: vec![0; READ_CHUNK].into_boxed_slice(),
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
    pub(crate) fn read_direct(&mut self) {
        if !self.read_direct {
            self.read_direct = true;
            self.raw = self.layer.take_buffered();
            self.raw_pos = 0;
        }
    }

    /// From now on writes go straight to the socket (after what is already protected).
    pub(crate) fn write_direct(&mut self) {
        self.write_direct = true;
    }
}

/// Direct mode hands out the socket once every byte the record layer held has been read, and
/// every byte it protected has been written.
impl RawSocket for RealityStream<TcpStream> {
    fn read_socket(&self) -> Option<&TcpStream> {
        let drained = self.plain_pos >= self.plain.len() && self.raw_pos >= self.raw.len();
        (self.read_direct && drained).then_some(&self.io)
    }

    fn write_socket(&self) -> Option<&TcpStream> {
        (self.write_direct && self.wire_pos >= self.wire.len()).then_some(&self.io)
    }
}

fn tls_error(e: reality::TlsError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

impl<S: AsyncWrite + Unpin> RealityStream<S> {
    /// Writes out every protected byte waiting in `wire`.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.wire_pos < self.wire.len() {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &self.wire[self.wire_pos..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.wire_pos += n;
        }
        self.wire.clear();
        self.wire_pos = 0;
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for RealityStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.plain_pos < this.plain.len() {
                let n = buf.remaining().min(this.plain.len() - this.plain_pos);
                buf.put_slice(&this.plain[this.plain_pos..this.plain_pos + n]);
                this.plain_pos += n;
                if this.plain_pos == this.plain.len() {
                    this.plain.clear();
                    this.plain_pos = 0;
                }
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
            if this.read_closed {
                return Poll::Ready(Ok(()));
            }
            match this.layer.read(&mut this.plain).map_err(tls_error)? {
                Received::Data(_) | Received::Other => continue,
                Received::Closed => {
                    this.read_closed = true;
                    continue;
                }
                Received::NeedMore => {}
            }
            let mut raw = ReadBuf::new(&mut this.read_buf);
            ready!(Pin::new(&mut this.io).poll_read(cx, &mut raw))?;
            if raw.filled().is_empty() {
                // The socket ended without close_notify: the peer has still finished sending.
                this.read_closed = true;
                continue;
            }
            this.layer.feed(raw.filled());
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for RealityStream<S> {
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
        let n = data.len().min(reality::MAX_PLAINTEXT);
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
    use super::*;
    use std::time::{Duration, SystemTime};

    use reality::{
        parse_short_id, ClientConfig, ClientHandshake, ClientHello, Progress, RealityCert,
        ServerConfig, ServerHandshake, ServerOptions, SystemRng,
    };
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const KEY: [u8; 32] = [9; 32];

    /// A client and a server record layer from a real handshake without a dest profile.
    fn layers() -> (RecordLayer, RecordLayer) {
        let server = ServerConfig {
            private_key: KEY,
            short_ids: vec![parse_short_id("ab").unwrap()],
            server_names: vec!["dest.test".into()],
            max_time_diff: None,
            min_client_version: None,
            max_client_version: None,
        };
        let client = ClientConfig {
            server_name: "dest.test".into(),
            public_key: reality::public_key(&KEY),
            short_id: parse_short_id("ab").unwrap(),
            version: [25, 1, 1],
            post_quantum: false,
            mldsa65_verify: None,
        };
        let now = SystemTime::now();
        let mut hs = ClientHandshake::new(&client, now, &mut SystemRng).unwrap();
        let Progress::Done { value: hello, .. } = ClientHello::read(&hs.poll_output()).unwrap()
        else {
            panic!("incomplete hello");
        };
        let auth = server.authenticate(&hello, now).unwrap();
        let cert = RealityCert::generate(&mut SystemRng);
        let mut handshake = ServerHandshake::new(
            &hello,
            &auth.auth_key,
            &cert,
            &ServerOptions::default(),
            None,
            &mut SystemRng,
        )
        .unwrap();
        assert!(hs.feed(&handshake.poll_output()).unwrap());
        assert!(handshake.feed(&hs.poll_output()).unwrap());
        (
            hs.into_record_layer().unwrap(),
            handshake.into_record_layer().unwrap(),
        )
    }

    #[tokio::test]
    async fn bytes_written_to_one_stream_are_read_whole_from_the_other_and_shutdown_is_end_of_stream(
    ) {
        let (client, server) = layers();
        let (a, b) = tokio::io::duplex(4096);
        let mut client = RealityStream::new(a, client);
        let mut server = RealityStream::new(b, server);
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let sent = data.clone();
        let writer = tokio::spawn(async move {
            client.write_all(&sent).await.unwrap();
            client.shutdown().await.unwrap();
            client
        });
        let mut got = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), server.read_to_end(&mut got))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got, data);
        writer.await.unwrap();
    }
}
