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
pub(crate) use linux::Pipe;

#[cfg(target_os = "linux")]
mod linux {
    use std::io;
    use std::os::fd::OwnedFd;
    use std::task::{ready, Context, Poll};

    use rustix::pipe::{pipe_with, splice, PipeFlags, SpliceFlags};
    use tokio::io::Interest;
    use tokio::net::TcpStream;

    /// Bytes asked of the source socket per splice: a default pipe's whole capacity.
    const SPLICE_CHUNK: usize = 64 * 1024;

    /// One direction's kernel pipe and how many bytes sit in it.
    pub(crate) struct Pipe {
        read: OwnedFd,
        write: OwnedFd,
        /// Bytes taken from the source and not yet given to the destination.
        held: usize,
        /// The source reached end of stream.
        eof: bool,
    }

    impl Pipe {
        pub(crate) fn new() -> io::Result<Pipe> {
            let (read, write) = pipe_with(PipeFlags::NONBLOCK | PipeFlags::CLOEXEC)?;
            Ok(Pipe {
                read,
                write,
                held: 0,
                eof: false,
            })
        }

        /// Moves bytes `from` → `to` until `from` ends (`Ready(Ok)`, every byte delivered; the
        /// caller half-closes `to`), an error, or neither socket is ready (`Pending`, with
        /// wake-ups registered). Bytes delivered to `to` are added to `moved`.
        ///
        /// The pipe is emptied before more is read, so at most one chunk is ever held.
        pub(crate) fn poll_copy(
            &mut self,
            cx: &mut Context<'_>,
            from: &TcpStream,
            to: &TcpStream,
            moved: &mut u64,
        ) -> Poll<io::Result<()>> {
            let flags = SpliceFlags::NONBLOCK | SpliceFlags::MOVE;
            loop {
                if self.held > 0 {
                    ready!(to.poll_write_ready(cx))?;
                    let out = to.try_io(Interest::WRITABLE, || {
                        Ok(splice(&self.read, None, to, None, self.held, flags)?)
                    });
                    match out {
                        Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                        Ok(n) => {
                            // The kernel never moves more than was asked for.
                            self.held = self.held.saturating_sub(n);
                            *moved += n as u64;
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Poll::Ready(Err(e)),
                    }
                    continue;
                }
                if self.eof {
                    return Poll::Ready(Ok(()));
                }
                ready!(from.poll_read_ready(cx))?;
                let got = from.try_io(Interest::READABLE, || {
                    Ok(splice(from, None, &self.write, None, SPLICE_CHUNK, flags)?)
                });
                match got {
                    Ok(0) => self.eof = true,
                    Ok(n) => self.held = n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Poll::Ready(Err(e)),
                }
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use std::future::poll_fn;
        use std::time::Duration;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        use tokio::net::TcpListener;

        /// Both ends of a loopback TCP connection.
        async fn socket_pair() -> (TcpStream, TcpStream) {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let (connected, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
            (connected.unwrap(), accepted.unwrap().0)
        }

        fn pattern(len: usize) -> Vec<u8> {
            (0..len as u64)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8)
                .collect()
        }

        /// `writer` → `from` ⇒ splice ⇒ `to` → `reader`: what the reader gets, and the count.
        async fn splice_through(data: Vec<u8>) -> (Vec<u8>, u64) {
            let (mut writer, from) = socket_pair().await;
            let (to, mut reader) = socket_pair().await;
            let sender = tokio::spawn(async move {
                writer.write_all(&data).await.unwrap();
                writer.shutdown().await.unwrap();
                writer
            });
            let copier = tokio::spawn(async move {
                let mut pipe = Pipe::new().unwrap();
                let mut moved = 0;
                poll_fn(|cx| pipe.poll_copy(cx, &from, &to, &mut moved))
                    .await
                    .unwrap();
                let mut to = to;
                to.shutdown().await.unwrap();
                (moved, from, to)
            });
            let mut got = Vec::new();
            tokio::time::timeout(Duration::from_secs(20), reader.read_to_end(&mut got))
                .await
                .unwrap()
                .unwrap();
            let (moved, _from, _to) = copier.await.unwrap();
            sender.await.unwrap();
            (got, moved)
        }

        #[tokio::test]
        async fn a_large_transfer_arrives_byte_exact_and_is_counted() {
            let data = pattern(20 * 1024 * 1024 + 12_345);
            let (got, moved) = splice_through(data.clone()).await;
            assert_eq!(got.len(), data.len());
            assert!(got == data, "spliced bytes differ");
            assert_eq!(moved, data.len() as u64);
        }

        #[tokio::test]
        async fn an_empty_source_ends_at_once_and_the_end_is_passed_on() {
            let (got, moved) = splice_through(Vec::new()).await;
            assert!(got.is_empty());
            assert_eq!(moved, 0);
        }

        #[tokio::test]
        async fn a_destination_that_goes_away_is_an_error_not_a_hang() {
            let (mut writer, from) = socket_pair().await;
            let (to, reader) = socket_pair().await;
            drop(reader);
            let sender = tokio::spawn(async move {
                // The copier fails and drops `from`: this write may then fail too.
                let _ = writer.write_all(&pattern(8 * 1024 * 1024)).await;
            });
            let mut pipe = Pipe::new().unwrap();
            let mut moved = 0;
            let copied = tokio::time::timeout(
                Duration::from_secs(10),
                poll_fn(|cx| pipe.poll_copy(cx, &from, &to, &mut moved)),
            )
            .await
            .expect("the copy must end");
            assert!(copied.is_err(), "a closed destination must fail the copy");
            drop(from);
            sender.await.unwrap();
        }
    }
}
