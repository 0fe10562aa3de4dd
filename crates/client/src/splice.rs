//! Zero-copy direct copy on Linux: once XTLS Vision has switched a direction to direct copy
//! and every byte held above the sockets has been written, the rest of that direction (inner
//! TLS records we neither read nor change) goes socket → pipe → socket with splice(2), inside
//! the kernel, instead of through a userspace buffer.
//!
//! Without a pipe (out of file descriptors) the caller goes on copying through its buffer.

use std::io;
use std::os::fd::OwnedFd;

use rustix::pipe::{pipe_with, splice, PipeFlags, SpliceFlags};
use tokio::io::Interest;
use tokio::net::TcpStream;

/// Bytes asked of the source socket per splice: a default pipe's whole capacity.
const SPLICE_CHUNK: usize = 64 * 1024;

/// A kernel pipe for one direction's bytes on their way between two sockets.
pub(crate) struct Pipe {
    read: OwnedFd,
    write: OwnedFd,
}

impl Pipe {
    /// A non-blocking pipe, or `None` when the system will not give one.
    pub(crate) fn new() -> Option<Pipe> {
        let (read, write) = pipe_with(PipeFlags::NONBLOCK | PipeFlags::CLOEXEC).ok()?;
        Some(Pipe { read, write })
    }

    /// Moves every byte `from` → `to` until `from` ends, and returns how many. The caller
    /// half-closes `to` afterwards. The pipe is emptied before more is read, so at most one
    /// chunk is ever held; on an error the held bytes are lost with the connection.
    pub(crate) async fn copy(&self, from: &TcpStream, to: &TcpStream) -> io::Result<u64> {
        let flags = SpliceFlags::NONBLOCK | SpliceFlags::MOVE;
        let mut moved = 0u64;
        loop {
            from.readable().await?;
            let got = from.try_io(Interest::READABLE, || {
                Ok(splice(from, None, &self.write, None, SPLICE_CHUNK, flags)?)
            });
            let mut held = match got {
                Ok(0) => return Ok(moved),
                Ok(n) => n,
                Err(e) if is_retry(&e) => continue,
                Err(e) => return Err(e),
            };
            while held > 0 {
                to.writable().await?;
                let out = to.try_io(Interest::WRITABLE, || {
                    Ok(splice(&self.read, None, to, None, held, flags)?)
                });
                match out {
                    Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                    Ok(n) => {
                        // The kernel never moves more than was asked for.
                        held = held.saturating_sub(n);
                        moved += n as u64;
                    }
                    Err(e) if is_retry(&e) => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }
}

fn is_retry(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

#[cfg(test)]
mod tests {
    use super::*;
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

    fn pattern(len: usize, seed: u64) -> Vec<u8> {
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
        let up = pattern(12 * 1024 * 1024 + 7, 1);
        let down = pattern(9 * 1024 * 1024 + 3, 2);
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
        let answer = pattern(3 * 1024 * 1024, 3);
        b.write_all(&answer).await.unwrap();
        b.shutdown().await.unwrap();
        let mut back = Vec::new();
        a.read_to_end(&mut back).await.unwrap();
        assert!(back == answer, "the answer after a half-close differs");
        assert_eq!(relay.await.unwrap(), (7, answer.len() as u64));
    }

    #[tokio::test]
    async fn a_destination_that_goes_away_is_an_error_not_a_hang() {
        let (mut writer, from) = socket_pair().await;
        let (to, reader) = socket_pair().await;
        drop(reader);
        let sender = tokio::spawn(async move {
            // The copy fails and drops `from`: this write may then fail too.
            let _ = writer.write_all(&pattern(8 * 1024 * 1024, 4)).await;
        });
        let copied = tokio::time::timeout(
            Duration::from_secs(10),
            Pipe::new().unwrap().copy(&from, &to),
        )
        .await
        .expect("the copy must end");
        assert!(copied.is_err(), "a closed destination must fail the copy");
        drop(from);
        sender.await.unwrap();
    }
}
