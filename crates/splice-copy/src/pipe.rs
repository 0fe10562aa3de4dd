//! One direction's kernel pipe and the poll loop that moves bytes through it.

use std::io;
use std::os::fd::OwnedFd;
use std::task::{ready, Context, Poll};

use rustix::pipe::{pipe_with, splice, PipeFlags, SpliceFlags};
use tokio::io::Interest;
use tokio::net::TcpStream;

/// Bytes asked of the source socket per splice: a default pipe's whole capacity.
const SPLICE_CHUNK: usize = 64 * 1024;

/// One direction's kernel pipe and how many bytes sit in it.
pub struct Pipe {
    read: OwnedFd,
    write: OwnedFd,
    /// Bytes taken from the source and not yet given to the destination.
    held: usize,
    /// The source reached end of stream.
    eof: bool,
}

impl Pipe {
    /// A non-blocking pipe; fails when the process is out of file descriptors (callers then
    /// copy through their buffers).
    pub fn new() -> io::Result<Pipe> {
        let (read, write) = pipe_with(PipeFlags::NONBLOCK | PipeFlags::CLOEXEC)?;
        Ok(Pipe {
            read,
            write,
            held: 0,
            eof: false,
        })
    }

    /// Whether every byte taken from the source was delivered.
    pub fn is_empty(&self) -> bool {
        self.held == 0
    }

    /// Ready for another connection: an empty pipe forgets that its last source ended.
    pub(crate) fn reset(&mut self) {
        self.eof = false;
    }

    /// Moves bytes `from` → `to` until `from` ends (`Ready(Ok)`, every byte delivered; the
    /// caller half-closes `to`), an error, or neither socket is ready (`Pending`, with
    /// wake-ups registered). Bytes delivered to `to` are added to `moved`.
    ///
    /// The pipe is emptied before more is read, so at most one chunk is ever held.
    pub fn poll_copy(
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

    /// Moves every byte `from` → `to` until `from` ends, and returns how many; the caller
    /// half-closes `to` afterwards. On an error the held bytes are lost with the connection.
    pub async fn copy(&mut self, from: &TcpStream, to: &TcpStream) -> io::Result<u64> {
        let mut moved = 0;
        std::future::poll_fn(|cx| self.poll_copy(cx, from, to, &mut moved)).await?;
        Ok(moved)
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

    /// A pattern that differs per `seed`, so the two directions cannot be mixed up unnoticed.
    fn pattern2(len: usize, seed: u64) -> Vec<u8> {
        (0..len as u64)
            .map(|i| ((i ^ seed).wrapping_mul(2_654_435_761) >> 9) as u8)
            .collect()
    }

    /// One proxied connection: `a` ⇄ (x, y) ⇄ `b`, each direction spliced and half-closed
    /// on its own, as the relay does.
    async fn spliced_pair() -> (TcpStream, TcpStream, tokio::task::JoinHandle<(u64, u64)>) {
        let (a, mut x) = socket_pair().await;
        let (mut y, b) = socket_pair().await;
        let relay = tokio::spawn(async move {
            let (xr, mut xw) = x.split();
            let (yr, mut yw) = y.split();
            let up = async {
                let n = Pipe::new().unwrap().copy(xr.as_ref(), yw.as_ref()).await?;
                yw.shutdown().await?;
                Ok::<_, io::Error>(n)
            };
            let down = async {
                let n = Pipe::new().unwrap().copy(yr.as_ref(), xw.as_ref()).await?;
                xw.shutdown().await?;
                Ok::<_, io::Error>(n)
            };
            tokio::try_join!(up, down).unwrap()
        });
        (a, b, relay)
    }

    #[tokio::test]
    async fn large_transfers_both_ways_at_once_arrive_byte_exact_and_are_counted() {
        let (a, b, relay) = spliced_pair().await;
        let up = pattern2(12 * 1024 * 1024 + 7, 1);
        let down = pattern2(9 * 1024 * 1024 + 3, 2);
        let (mut ar, mut aw) = a.into_split();
        let (mut br, mut bw) = b.into_split();
        let (u, d) = (up.clone(), down.clone());
        let writers = tokio::spawn(async move {
            tokio::try_join!(
                async {
                    aw.write_all(&u).await?;
                    aw.shutdown().await
                },
                async {
                    bw.write_all(&d).await?;
                    bw.shutdown().await
                }
            )
            .unwrap();
        });
        let (mut got_up, mut got_down) = (Vec::new(), Vec::new());
        let read =
            async { tokio::try_join!(br.read_to_end(&mut got_up), ar.read_to_end(&mut got_down)) };
        tokio::time::timeout(Duration::from_secs(30), read)
            .await
            .unwrap()
            .unwrap();
        writers.await.unwrap();
        assert!(got_up == up, "bytes up differ");
        assert!(got_down == down, "bytes down differ");
        assert_eq!(relay.await.unwrap(), (up.len() as u64, down.len() as u64));
    }

    #[tokio::test]
    async fn a_half_close_in_either_direction_leaves_the_other_open() {
        let (mut a, mut b, relay) = spliced_pair().await;
        a.write_all(b"request").await.unwrap();
        a.shutdown().await.unwrap();
        let mut got = Vec::new();
        b.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"request");
        let answer = pattern2(3 * 1024 * 1024, 3);
        b.write_all(&answer).await.unwrap();
        b.shutdown().await.unwrap();
        let mut back = Vec::new();
        a.read_to_end(&mut back).await.unwrap();
        assert!(back == answer, "the answer after a half-close differs");
        assert_eq!(relay.await.unwrap(), (7, answer.len() as u64));
    }
}
