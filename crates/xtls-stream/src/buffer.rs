//! The one buffer policy of the stream stack: how much is read at a time, and a small
//! per-thread pool of copy buffers so an idle connection holds none.

use std::cell::RefCell;

/// Size of one copy buffer (a relay direction, Vision's reads): two full TLS records' payload.
pub const BUFFER_SIZE: usize = 32 * 1024;
/// Bytes read from a socket under a record layer at a time: a full TLS record and its header.
pub const RECORD_READ_SIZE: usize = 16 * 1024 + 256;
/// Buffers of each kind each worker thread keeps for reuse: about 1.5 MiB per thread when
/// full, a fixed cost, not one per connection.
const POOL_CAPACITY: usize = 16;

/// Plaintext sealed per write call: a relay's whole read, as two full records, goes out in one
/// socket write rather than one write per record.
pub(crate) const WRITE_BATCH: usize = BUFFER_SIZE;
/// Room in a buffer of bytes on their way to a socket: [`WRITE_BATCH`] protected, and more.
const WIRE_CAPACITY: usize = WRITE_BATCH + 512;

thread_local! {
    static POOL: RefCell<Vec<Box<[u8]>>> = const { RefCell::new(Vec::new()) };
    static WIRES: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
    static INPUTS: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// A buffer for a record layer to receive into ([`reality::RecordLayer::lend_input`]) from
/// this thread's pool; empty (the layer allocates) when the pool has none.
pub(crate) fn take_input() -> Vec<u8> {
    INPUTS.with(|p| p.borrow_mut().pop()).unwrap_or_default()
}

/// Returns a record layer's input buffer to this thread's pool, its length kept (reusing it
/// zeroes nothing); one that is not about [`BUFFER_SIZE`] is freed instead.
pub(crate) fn give_input(input: Vec<u8>) {
    if input.len() < BUFFER_SIZE || input.capacity() > 2 * BUFFER_SIZE {
        return;
    }
    INPUTS.with(|p| {
        let mut pool = p.borrow_mut();
        if pool.len() < POOL_CAPACITY {
            pool.push(input);
        }
    });
}

/// An empty buffer for bytes on their way to a socket (protected records, Vision's padded
/// frames) from this thread's pool: writing allocates nothing, and an idle connection holds
/// none (give it back with [`give_wire`] once written).
pub(crate) fn take_wire() -> Vec<u8> {
    WIRES
        .with(|p| p.borrow_mut().pop())
        .unwrap_or_else(|| Vec::with_capacity(WIRE_CAPACITY))
}

/// Returns a written-out buffer to this thread's pool; one grown far past a record (a large
/// write) is freed instead.
pub(crate) fn give_wire(mut wire: Vec<u8>) {
    if wire.capacity() < WIRE_CAPACITY || wire.capacity() > 4 * WIRE_CAPACITY {
        return;
    }
    wire.clear();
    WIRES.with(|p| {
        let mut pool = p.borrow_mut();
        if pool.len() < POOL_CAPACITY {
            pool.push(wire);
        }
    });
}

/// A copy buffer of [`BUFFER_SIZE`] bytes from this thread's pool.
pub fn take_buffer() -> Box<[u8]> {
    POOL.with(|p| p.borrow_mut().pop())
        .unwrap_or_else(|| vec![0u8; BUFFER_SIZE].into_boxed_slice())
}

/// Returns a buffer to this thread's pool (or frees it when the pool is full, or when it is
/// not one of ours).
pub fn give_buffer(buf: Box<[u8]>) {
    if buf.len() != BUFFER_SIZE {
        return;
    }
    POOL.with(|p| {
        let mut pool = p.borrow_mut();
        if pool.len() < POOL_CAPACITY {
            pool.push(buf);
        }
    });
}

/// Hands out plaintext already decrypted or unpadded (`pending[*pos..]`) before reading more;
/// `false` when nothing was pending. Both streams keep such a buffer, drained the same way.
pub(crate) fn drain_pending(
    pending: &mut Vec<u8>,
    pos: &mut usize,
    out: &mut tokio::io::ReadBuf<'_>,
) -> bool {
    if *pos >= pending.len() {
        return false;
    }
    let n = out.remaining().min(pending.len() - *pos);
    out.put_slice(&pending[*pos..*pos + n]);
    *pos += n;
    if *pos == pending.len() {
        // Freed, not kept: an idle connection holds no buffer.
        *pending = Vec::new();
        *pos = 0;
    }
    true
}
