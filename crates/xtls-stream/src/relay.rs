//! Copying bytes both ways between two streams, with half-close and an optional idle timeout:
//! the node's relay (client ⇄ destination, fallback) and the client's (local ⇄ node).
//!
//! Buffers are taken from a small per-thread pool only while a direction has data to move and
//! are given back as soon as its source has nothing more to read, so an idle connection holds
//! no copy buffer. Byte counts are kept in the relay and handed to its [`Meter`] in bulk.
//!
//! A relay built [`Relay::with_splice`] moves a direction with splice(2) (crate `splice-copy`)
//! once both its ends expose their raw sockets ([`Transport::raw_socket`]) and its own buffer is
//! empty; on other systems, and until then, it copies through the buffer.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

#[cfg(target_os = "linux")]
use splice_copy::Pipe;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
#[cfg(target_os = "linux")]
use tokio::sync::OwnedSemaphorePermit;
use tokio::sync::Semaphore;
use tokio::time::{Instant, Sleep};

use crate::buffer::{give_buffer, take_buffer, BUFFER_SIZE};
use crate::transport::{Half as Side, Transport};

/// Reading stops filling a buffer once less than this is left in it.
const MIN_READ_ROOM: usize = 4 * 1024;
/// Bytes counted locally before they are handed to the [`Meter`].
const COUNT_FLUSH: u64 = 1 << 20;

/// Bytes a relay moved since it last reported.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Moved {
    /// From the client side to the remote side.
    pub up: u64,
    /// From the remote side to the client side.
    pub down: u64,
    /// Of `up` and `down`, bytes moved with splice(2).
    pub spliced: u64,
}

/// Where a relay reports what it moved: in bulk while it runs, and the rest when it ends.
pub trait Meter {
    fn add(&self, moved: Moved);
}

/// A [`Meter`] that only adds up what its relays moved.
#[derive(Debug, Default)]
pub struct Tally {
    up: AtomicU64,
    down: AtomicU64,
    spliced: AtomicU64,
}

impl Tally {
    /// Everything reported so far.
    pub fn total(&self) -> Moved {
        Moved {
            up: self.up.load(Ordering::Relaxed),
            down: self.down.load(Ordering::Relaxed),
            spliced: self.spliced.load(Ordering::Relaxed),
        }
    }
}

impl Meter for Tally {
    fn add(&self, moved: Moved) {
        self.up.fetch_add(moved.up, Ordering::Relaxed);
        self.down.fetch_add(moved.down, Ordering::Relaxed);
        self.spliced.fetch_add(moved.spliced, Ordering::Relaxed);
    }
}

/// How a relay ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayEnd {
    /// Both directions reached end of stream.
    Finished,
    /// No byte moved for the idle timeout.
    Idle,
}

/// One direction of the copy.
struct Half {
    buf: Option<Box<[u8]>>,
    pos: usize,
    end: usize,
    read_done: bool,
    done: bool,
    need_flush: bool,
    counted: u64,
    /// Of `counted`, bytes moved with splice(2).
    spliced: u64,
    splice: SpliceState,
}

/// Whether a direction may use splice(2), and its pipe once it does.
enum SpliceState {
    /// This relay copies through userspace only.
    Off,
    /// Spliced once both ends expose their raw sockets and the node's pipe budget has a pipe
    /// to spare (each takes two descriptors).
    Allowed(Arc<Semaphore>),
    /// Splicing through a pipe, which holds its place in the budget while bytes move; once
    /// the pipe is empty and the source has nothing, both go back (`Allowed` again).
    #[cfg(target_os = "linux")]
    On {
        pipe: Pipe,
        _place: OwnedSemaphorePermit,
        pipes: Arc<Semaphore>,
    },
}

impl Half {
    fn new(initial: Vec<u8>) -> Self {
        let end = initial.len();
        let buf = (end > 0).then(|| initial.into_boxed_slice());
        Half {
            buf,
            pos: 0,
            end,
            read_done: false,
            done: false,
            need_flush: false,
            counted: end as u64,
            spliced: 0,
            splice: SpliceState::Off,
        }
    }

    /// Moves bytes with splice(2) while both ends offer their raw sockets: `Ready(Ok(true))`
    /// once the source ended and every byte was delivered, `Ready(Ok(false))` when this
    /// direction must go on through the buffer.
    #[cfg(target_os = "linux")]
    fn poll_splice<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        r: Pin<&mut R>,
        w: Pin<&mut W>,
        moved: &mut bool,
    ) -> Poll<io::Result<bool>>
    where
        R: Transport + ?Sized,
        W: Transport + ?Sized,
    {
        let (Some(from), Some(to)) = (
            r.as_ref().get_ref().raw_socket(Side::Read),
            w.as_ref().get_ref().raw_socket(Side::Write),
        ) else {
            return Poll::Ready(Ok(false));
        };
        if let SpliceState::Allowed(pipes) = &self.splice {
            // Without a pipe (the budget is spent, or the process is out of descriptors) the
            // buffer still works.
            self.splice = match pipes.clone().try_acquire_owned() {
                Ok(permit) => match splice_copy::take_pipe() {
                    Ok(pipe) => SpliceState::On {
                        pipe,
                        _place: permit,
                        pipes: pipes.clone(),
                    },
                    Err(_) => SpliceState::Off,
                },
                Err(_) => SpliceState::Off,
            };
        }
        if !matches!(self.splice, SpliceState::On { .. }) {
            return Poll::Ready(Ok(false));
        }
        // The buffer is empty here (everything read was written): an idle pool needs it more.
        self.release();
        let SpliceState::On { pipe, .. } = &mut self.splice else {
            return Poll::Ready(Ok(false));
        };
        let mut n = 0;
        let copied = pipe.poll_copy(cx, from, to, &mut n);
        if n > 0 {
            self.counted += n;
            self.spliced += n;
            *moved = true;
        }
        if copied.is_pending() && pipe.is_empty() {
            // Waiting for the source with nothing in flight: the pipe and its place go back.
            self.idle_splice();
        }
        copied.map_ok(|()| true)
    }

    /// Returns an empty pipe to the pool and its place to the budget; the next bytes take
    /// them again.
    #[cfg(target_os = "linux")]
    fn idle_splice(&mut self) {
        let SpliceState::On { pipes, .. } = &self.splice else {
            return;
        };
        let allowed = SpliceState::Allowed(pipes.clone());
        if let SpliceState::On { pipe, .. } = std::mem::replace(&mut self.splice, allowed) {
            splice_copy::give_pipe(pipe);
        }
    }

    fn release(&mut self) {
        if let Some(buf) = self.buf.take() {
            give_buffer(buf);
        }
    }

    /// Moves bytes from `r` to `w` until `r` is pending or finished; `moved` is set when any
    /// byte was transferred.
    fn poll_copy<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        mut r: Pin<&mut R>,
        mut w: Pin<&mut W>,
        moved: &mut bool,
    ) -> Poll<io::Result<()>>
    where
        R: AsyncRead + Transport + ?Sized,
        W: AsyncWrite + Transport + ?Sized,
    {
        loop {
            if self.done {
                return Poll::Ready(Ok(()));
            }
            if self.pos < self.end {
                let Some(buf) = self.buf.as_deref() else {
                    self.pos = self.end;
                    continue;
                };
                let n = ready!(w.as_mut().poll_write(cx, &buf[self.pos..self.end]))?;
                if n == 0 {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                self.pos += n;
                self.need_flush = true;
                *moved = true;
                continue;
            }
            if self.read_done {
                self.release();
                if self.need_flush {
                    ready!(w.as_mut().poll_flush(cx))?;
                    self.need_flush = false;
                }
                ready!(w.as_mut().poll_shutdown(cx))?;
                self.done = true;
                return Poll::Ready(Ok(()));
            }
            // `raw_socket(Write)` is only offered with nothing left to flush above the socket, so
            // spliced bytes follow every byte that went through the buffer.
            #[cfg(target_os = "linux")]
            if !matches!(self.splice, SpliceState::Off)
                && ready!(self.poll_splice(cx, r.as_mut(), w.as_mut(), moved))?
            {
                self.read_done = true;
                continue;
            }
            if self.buf.as_ref().is_none_or(|b| b.len() != BUFFER_SIZE) {
                self.buf = Some(take_buffer());
            }
            let Some(buf) = self.buf.as_deref_mut() else {
                continue;
            };
            // Fill the buffer with whatever is ready, so the writer gets few large writes.
            let mut read_buf = ReadBuf::new(buf);
            let mut eof = false;
            loop {
                let before = read_buf.filled().len();
                match r.as_mut().poll_read(cx, &mut read_buf) {
                    Poll::Pending => break,
                    Poll::Ready(Ok(())) if read_buf.filled().len() == before => {
                        eof = true;
                        break;
                    }
                    Poll::Ready(Ok(())) if read_buf.remaining() < MIN_READ_ROOM => break,
                    Poll::Ready(Ok(())) => {}
                    // A peer that closes without TLS close_notify has still finished sending.
                    Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
                        eof = true;
                        break;
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                }
            }
            let n = read_buf.filled().len();
            self.read_done = eof;
            if n == 0 && !eof {
                // Nothing to move now: hold no buffer while idle.
                self.release();
                if self.need_flush {
                    ready!(w.as_mut().poll_flush(cx))?;
                    self.need_flush = false;
                }
                return Poll::Pending;
            }
            self.pos = 0;
            self.end = n;
            if n > 0 {
                self.counted += n as u64;
                *moved = true;
            }
        }
    }
}

/// Relays `client` ⇄ `remote` until both directions finish, an error, or the idle timeout
/// without a byte. `up_initial` is sent to `remote` first (bytes that arrived with the request
/// header) and `down_initial` to `client` first (the response header).
pub struct Relay<'a, C: ?Sized, R: ?Sized, M: Meter + ?Sized> {
    client: &'a mut C,
    remote: &'a mut R,
    up: Half,
    down: Half,
    /// The idle timeout and its timer; `None` waits as long as both ends stay open.
    idle: Option<(Duration, Pin<Box<Sleep>>)>,
    moved: bool,
    meter: &'a M,
}

impl<'a, C, R, M> Relay<'a, C, R, M>
where
    C: AsyncRead + AsyncWrite + Transport + Unpin + ?Sized,
    R: AsyncRead + AsyncWrite + Transport + Unpin + ?Sized,
    M: Meter + ?Sized,
{
    pub fn new(
        client: &'a mut C,
        remote: &'a mut R,
        up_initial: Vec<u8>,
        down_initial: Vec<u8>,
        meter: &'a M,
    ) -> Self {
        Relay {
            client,
            remote,
            up: Half::new(up_initial),
            down: Half::new(down_initial),
            idle: None,
            moved: false,
            meter,
        }
    }

    /// Ends the relay with [`RelayEnd::Idle`] once no byte moved either way for `idle`.
    pub fn with_idle_timeout(mut self, idle: Duration) -> Self {
        self.idle = Some((idle, Box::pin(tokio::time::sleep(idle))));
        self
    }

    /// Lets each direction use splice(2) once both its ends are raw sockets with nothing
    /// buffered above them (Vision's direct copy) and `pipes` has a pipe to spare; a no-op off
    /// Linux.
    pub fn with_splice(mut self, pipes: &Arc<Semaphore>) -> Self {
        if cfg!(target_os = "linux") {
            self.up.splice = SpliceState::Allowed(pipes.clone());
            self.down.splice = SpliceState::Allowed(pipes.clone());
        }
        self
    }

    fn flush_counts(&mut self, force: bool) {
        if force || self.up.counted + self.down.counted >= COUNT_FLUSH {
            self.report();
        }
    }
}

impl<C: ?Sized, R: ?Sized, M: Meter + ?Sized> Relay<'_, C, R, M> {
    fn report(&mut self) {
        self.meter.add(Moved {
            up: self.up.counted,
            down: self.down.counted,
            spliced: self.up.spliced + self.down.spliced,
        });
        self.up.counted = 0;
        self.down.counted = 0;
        self.up.spliced = 0;
        self.down.spliced = 0;
    }
}

impl<C, R, M> Future for Relay<'_, C, R, M>
where
    C: AsyncRead + AsyncWrite + Transport + Unpin + ?Sized,
    R: AsyncRead + AsyncWrite + Transport + Unpin + ?Sized,
    M: Meter + ?Sized,
{
    type Output = io::Result<RelayEnd>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut moved = false;
        let up = this.up.poll_copy(
            cx,
            Pin::new(&mut *this.client),
            Pin::new(&mut *this.remote),
            &mut moved,
        );
        if let Poll::Ready(Err(e)) = up {
            return Poll::Ready(Err(e));
        }
        let down = this.down.poll_copy(
            cx,
            Pin::new(&mut *this.remote),
            Pin::new(&mut *this.client),
            &mut moved,
        );
        if let Poll::Ready(Err(e)) = down {
            return Poll::Ready(Err(e));
        }
        this.moved |= moved;
        this.flush_counts(false);
        if up.is_ready() && down.is_ready() {
            return Poll::Ready(Ok(RelayEnd::Finished));
        }
        // The timer is re-armed lazily: when it fires after some traffic, it starts again.
        if let Some((idle, timer)) = &mut this.idle {
            while timer.as_mut().poll(cx).is_ready() {
                if !std::mem::take(&mut this.moved) {
                    return Poll::Ready(Ok(RelayEnd::Idle));
                }
                let next = Instant::now() + *idle;
                timer.as_mut().reset(next);
            }
        }
        Poll::Pending
    }
}

impl<C: ?Sized, R: ?Sized, M: Meter + ?Sized> Drop for Relay<'_, C, R, M> {
    fn drop(&mut self) {
        self.report();
        self.up.release();
        self.down.release();
    }
}
