//! The packet-up reorder buffer: a session's upload arrives as numbered POSTs over several
//! HTTP requests (and connections), in any order; the proxied stream needs their bytes in
//! sequence order. Bounded like Xray-core's `uploadQueue`: at most `max_packets` packets
//! waiting (`scMaxBufferedPosts`, 30), each at most `max_post_bytes` (`scMaxEachPostBytes`,
//! 1,000,000), and here also at most `max_bytes` in all.

use std::collections::BTreeMap;

/// Xray's `scMaxBufferedPosts` default.
pub const DEFAULT_MAX_PACKETS: usize = 30;
/// Xray's `scMaxEachPostBytes` default.
pub const DEFAULT_MAX_POST_BYTES: usize = 1_000_000;
/// Bytes a session may have waiting: a few full posts, not thirty (which would be 30 MB a
/// session); Xray's client sends far smaller posts under normal load.
pub const DEFAULT_MAX_BYTES: usize = 4 * DEFAULT_MAX_POST_BYTES;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadLimits {
    /// Packets waiting at most, and how far past the next expected one a sequence number may
    /// be.
    pub max_packets: usize,
    /// One packet's payload at most.
    pub max_post_bytes: usize,
    /// All waiting payloads together at most.
    pub max_bytes: usize,
}

impl Default for UploadLimits {
    fn default() -> Self {
        Self {
            max_packets: DEFAULT_MAX_PACKETS,
            max_post_bytes: DEFAULT_MAX_POST_BYTES,
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UploadError {
    /// The packet was already delivered or is already waiting: a replay, or a client bug.
    #[error("packet {0} was already received")]
    Duplicate(u64),
    /// Too far past the next expected packet: the client is broken or an attacker is filling
    /// the buffer; Xray tears the connection down in this case.
    #[error("packet {seq} is too far ahead of {next}")]
    TooFarAhead { seq: u64, next: u64 },
    /// One packet larger than `max_post_bytes` (Xray answers 413).
    #[error("a packet of {0} bytes is larger than allowed")]
    TooLarge(usize),
    /// The bytes waiting would pass `max_bytes`. Not fatal: once the reader took what is
    /// ready, the same packet may fit (Xray makes the POST wait instead).
    #[error("the upload buffer is full")]
    Full,
}

/// Packets of one upload by sequence number; [`ReorderBuffer::pop`] hands out payloads in
/// order, starting at sequence number 0.
#[derive(Debug, Clone)]
pub struct ReorderBuffer {
    limits: UploadLimits,
    next: u64,
    waiting: BTreeMap<u64, Vec<u8>>,
    bytes: usize,
}

impl ReorderBuffer {
    pub fn new(limits: UploadLimits) -> Self {
        Self {
            limits,
            next: 0,
            waiting: BTreeMap::new(),
            bytes: 0,
        }
    }

    /// Whether packet `seq` of `len` bytes would be taken now; the caller may ask before it
    /// reads a request body.
    pub fn check(&self, seq: u64, len: usize) -> Result<(), UploadError> {
        if seq < self.next || self.waiting.contains_key(&seq) {
            return Err(UploadError::Duplicate(seq));
        }
        // The window holds `max_packets` sequence numbers from the next one, so the count of
        // waiting packets is bounded by it too.
        if seq - self.next >= self.limits.max_packets as u64 {
            return Err(UploadError::TooFarAhead {
                seq,
                next: self.next,
            });
        }
        if len > self.limits.max_post_bytes {
            return Err(UploadError::TooLarge(len));
        }
        if self.bytes.saturating_add(len) > self.limits.max_bytes {
            return Err(UploadError::Full);
        }
        Ok(())
    }

    /// Keeps packet `seq` until its turn.
    pub fn push(&mut self, seq: u64, payload: Vec<u8>) -> Result<(), UploadError> {
        self.check(seq, payload.len())?;
        self.bytes += payload.len();
        self.waiting.insert(seq, payload);
        Ok(())
    }

    /// The next payload in order, if it has arrived. Empty packets are passed over (they only
    /// move the sequence on), so what comes out is never empty.
    pub fn pop(&mut self) -> Option<Vec<u8>> {
        while let Some(payload) = self.waiting.remove(&self.next) {
            self.next += 1;
            self.bytes -= payload.len();
            if !payload.is_empty() {
                return Some(payload);
            }
        }
        None
    }

    /// The sequence number expected next.
    pub fn next_seq(&self) -> u64 {
        self.next
    }

    /// Payload bytes waiting, ready or not.
    pub fn buffered_bytes(&self) -> usize {
        self.bytes
    }

    /// Packets waiting, ready or not.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(buffer: &mut ReorderBuffer) -> Vec<u8> {
        std::iter::from_fn(|| buffer.pop()).flatten().collect()
    }

    #[test]
    fn out_of_order_packets_come_out_in_order() {
        let mut buffer = ReorderBuffer::new(UploadLimits::default());
        buffer.push(2, b"cc".to_vec()).unwrap();
        buffer.push(1, b"b".to_vec()).unwrap();
        assert_eq!(buffer.pop(), None, "packet 0 is missing");
        buffer.push(4, b"e".to_vec()).unwrap();
        buffer.push(0, b"aa".to_vec()).unwrap();
        assert_eq!(drain(&mut buffer), b"aabcc");
        assert_eq!(buffer.next_seq(), 3);
        buffer.push(3, Vec::new()).unwrap();
        assert_eq!(
            buffer.pop(),
            Some(b"e".to_vec()),
            "an empty packet moves on"
        );
        assert_eq!((buffer.waiting(), buffer.buffered_bytes()), (0, 0));
    }

    #[test]
    fn duplicates_and_far_packets_are_refused() {
        let mut buffer = ReorderBuffer::new(UploadLimits::default());
        buffer.push(0, b"a".to_vec()).unwrap();
        buffer.push(5, b"f".to_vec()).unwrap();
        assert_eq!(
            buffer.push(5, b"x".to_vec()),
            Err(UploadError::Duplicate(5))
        );
        buffer.pop();
        assert_eq!(
            buffer.push(0, b"x".to_vec()),
            Err(UploadError::Duplicate(0))
        );
        assert_eq!(
            buffer.push(31, b"x".to_vec()),
            Err(UploadError::TooFarAhead { seq: 31, next: 1 })
        );
        buffer.push(30, b"x".to_vec()).unwrap();
        assert_eq!(
            buffer.push(u64::MAX, Vec::new()),
            Err(UploadError::TooFarAhead {
                seq: u64::MAX,
                next: 1
            })
        );
    }

    #[test]
    fn sizes_are_bounded() {
        let limits = UploadLimits {
            max_packets: 30,
            max_post_bytes: 10,
            max_bytes: 25,
        };
        let mut buffer = ReorderBuffer::new(limits);
        assert_eq!(buffer.push(0, vec![0; 11]), Err(UploadError::TooLarge(11)));
        buffer.push(1, vec![1; 10]).unwrap();
        buffer.push(2, vec![2; 10]).unwrap();
        assert_eq!(buffer.push(0, vec![0; 10]), Err(UploadError::Full));
        buffer.push(0, vec![0; 5]).unwrap();
        assert_eq!(buffer.buffered_bytes(), 25);
        assert_eq!(drain(&mut buffer).len(), 25);
        assert_eq!(buffer.buffered_bytes(), 0);
        // What did not fit before fits once the reader took the rest.
        buffer.push(3, vec![3; 10]).unwrap();
    }
}
