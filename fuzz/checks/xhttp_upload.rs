//! What must hold for XHTTP's packet-up reorder buffer (`xhttp::upload::ReorderBuffer`) under
//! any sequence of packets and reads, compared with a plain model of it. The input is read as
//! operations of two bytes: `0x80 | _` reads what is ready; otherwise the first byte places a
//! packet before or after the next expected one and the second gives its length. Shared by
//! the fuzz target and a stable test.

use std::collections::BTreeMap;

use xhttp::upload::{ReorderBuffer, UploadError, UploadLimits};

const LIMITS: UploadLimits = UploadLimits {
    max_packets: 8,
    max_post_bytes: 12,
    max_bytes: 40,
};

/// Runs the operations in `data`; panics (a finding) if the buffer and the model disagree or
/// a bound breaks.
pub fn run(data: &[u8]) {
    let mut buffer = ReorderBuffer::new(LIMITS);
    let mut model: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    let mut next = 0u64;
    let mut sent = Vec::new();
    let mut delivered = Vec::new();
    for (i, op) in data.chunks(2).enumerate() {
        let [a, b] = *op else { break };
        if a & 0x80 != 0 {
            while let Some(payload) = buffer.pop() {
                assert!(!payload.is_empty());
                delivered.extend_from_slice(&payload);
            }
            while let Some(p) = model.remove(&next) {
                next += 1;
                sent.extend_from_slice(&p);
            }
            assert_eq!(delivered, sent, "bytes out in sequence order");
            assert_eq!(buffer.next_seq(), next);
            continue;
        }
        let offset = u64::from(a & 0x3f);
        let seq = if a & 0x40 != 0 {
            next.saturating_sub(offset)
        } else {
            next + offset
        };
        let payload = vec![i as u8; usize::from(b) % 16];
        let expected = if seq < next || model.contains_key(&seq) {
            Err(UploadError::Duplicate(seq))
        } else if seq - next >= LIMITS.max_packets as u64 {
            Err(UploadError::TooFarAhead { seq, next })
        } else if payload.len() > LIMITS.max_post_bytes {
            Err(UploadError::TooLarge(payload.len()))
        } else if model.values().map(Vec::len).sum::<usize>() + payload.len() > LIMITS.max_bytes {
            Err(UploadError::Full)
        } else {
            Ok(())
        };
        let got = buffer.push(seq, payload.clone());
        assert_eq!(got, expected, "push {seq} with next {next}");
        if got.is_ok() {
            model.insert(seq, payload);
        }
        assert!(buffer.waiting() <= LIMITS.max_packets);
        assert!(buffer.buffered_bytes() <= LIMITS.max_bytes);
        assert_eq!(buffer.waiting(), model.len());
    }
}
