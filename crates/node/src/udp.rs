//! The UDP command: datagrams to one destination, each framed with a 2-byte length on the stream.

use std::cell::RefCell;
use std::io;
use std::net::IpAddr;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;
use vless::{Destination, Parse};

use crate::budget::SocketLease;
use crate::egress::{bind_for, resolve_out};
use crate::server::Shared;

/// Largest datagram received from a peer (the frame length limit).
pub(crate) const MAX_DATAGRAM: usize = vless::udp::MAX_PAYLOAD;
/// A read buffer larger than this is given back once it is empty.
const STREAM_READ: usize = 16 * 1024;
/// Bytes read from the client at a time when no frame is in progress.
const IDLE_READ: usize = 2 * 1024;
/// Datagram buffers each worker thread keeps for reuse.
const POOL_CAPACITY: usize = 16;

thread_local! {
    static DATAGRAMS: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// An empty buffer with room for a length prefix and the largest datagram, taken from a small
/// per-thread pool so idle UDP sessions hold none.
pub(crate) fn take_datagram_buffer() -> Vec<u8> {
    DATAGRAMS
        .with(|p| p.borrow_mut().pop())
        .unwrap_or_else(|| Vec::with_capacity(2 + MAX_DATAGRAM))
}

pub(crate) fn give_datagram_buffer(mut buf: Vec<u8>) {
    buf.clear();
    DATAGRAMS.with(|p| {
        let mut pool = p.borrow_mut();
        if pool.len() < POOL_CAPACITY {
            pool.push(buf);
        }
    });
}

async fn write_frame<S: AsyncWrite + Unpin>(stream: &mut S, frame: &[u8]) -> io::Result<()> {
    stream.write_all(frame).await?;
    stream.flush().await
}

/// Relays datagrams between the client's stream and one destination until either side ends,
/// an error, or the idle timeout. `_lease` is the user's budget for the socket it opens.
pub(crate) async fn serve<S>(
    stream: &mut S,
    destination: &Destination,
    rest: Vec<u8>,
    response: Vec<u8>,
    local: Option<IpAddr>,
    shared: &Shared,
    _lease: SocketLease,
) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let Some(addrs) = resolve_out(destination, local, shared).await else {
        return Ok(());
    };
    let Some(&target) = addrs.first() else {
        return Ok(());
    };
    let socket = bind_for(target).await?;
    socket.connect(target).await?;
    shared.metrics.session_started();
    stream.write_all(&response).await?;
    stream.flush().await?;

    let idle = shared.config.idle_timeout;
    let mut from_client = rest;
    let mut up = 0u64;
    let mut down = 0u64;
    let mut deadline = Instant::now() + idle;
    let result = loop {
        // Send every complete frame the client has sent so far.
        let mut used = 0;
        while let Parse::Done {
            value: payload,
            consumed: n,
        } = vless::udp::decode_packet(&from_client[used..])
        {
            // A datagram the destination refuses (ICMP) is dropped, as on any UDP path.
            let _ = socket.send(payload).await;
            up += payload.len() as u64;
            used += n;
        }
        from_client.drain(..used);
        if from_client.is_empty() && from_client.capacity() > STREAM_READ {
            from_client = Vec::new();
        }
        // Room for the rest of a frame in progress, or a small read while idle.
        let wanted = match from_client.get(..2) {
            Some(len) => 2 + usize::from(u16::from_be_bytes([len[0], len[1]])),
            None => 0,
        };
        from_client.reserve(wanted.saturating_sub(from_client.len()).max(IDLE_READ));

        tokio::select! {
            read = stream.read_buf(&mut from_client) => match read {
                Ok(0) => break Ok(()),
                Ok(_) => deadline = Instant::now() + idle,
                Err(e) => break Err(e),
            },
            ready = socket.readable() => {
                if let Err(e) = ready {
                    break Err(e);
                }
                let mut frame = take_datagram_buffer();
                frame.extend_from_slice(&[0, 0]);
                // Errors here are ICMP reports on a connected socket; the session goes on.
                let received = socket.try_recv_buf(&mut frame);
                if let Ok(n) = received {
                    // n fits: the buffer holds at most MAX_DATAGRAM payload bytes.
                    let len = u16::try_from(n).unwrap_or(u16::MAX);
                    frame[..2].copy_from_slice(&len.to_be_bytes());
                    let written = write_frame(stream, &frame).await;
                    give_datagram_buffer(frame);
                    if let Err(e) = written {
                        break Err(e);
                    }
                    down += n as u64;
                    deadline = Instant::now() + idle;
                } else {
                    give_datagram_buffer(frame);
                }
            }
            _ = tokio::time::sleep_until(deadline) => break Ok(()),
        }
    };
    shared.metrics.add_bytes(up, down);
    let _ = stream.shutdown().await;
    result
}
