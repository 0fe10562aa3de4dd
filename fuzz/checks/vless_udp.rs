//! What must hold for VLESS UDP framing (`vless::udp`) on any input, read as the node reads a
//! UDP stream: datagram after datagram until one is incomplete. Shared by the fuzz target and
//! a stable test.

use vless::udp::{decode_packet, encode_packet};
use vless::Parse;

/// Strict prefixes of the first datagram checked for "need more" (all of them up to this).
const PREFIXES_CHECKED: usize = 4096;

/// Decodes `data` as a stream of datagrams; panics (a finding) if the codec's contract breaks.
pub fn run(data: &[u8]) {
    let mut pos = 0;
    let mut again = Vec::new();
    let mut first = None;
    while let Parse::Done {
        value: payload,
        consumed: used,
    } = decode_packet(&data[pos..])
    {
        assert_eq!(
            used,
            2 + payload.len(),
            "a frame is its length and its payload"
        );
        first.get_or_insert(used);
        encode_packet(payload, &mut again).expect("a decoded datagram fits a frame");
        pos += used;
    }
    // Framing is total: re-encoding gives back exactly the bytes read.
    assert_eq!(again, data[..pos], "encode(decode(x)) != x");
    if let Some(used) = first {
        for end in 0..used.min(PREFIXES_CHECKED) {
            assert_eq!(
                decode_packet(&data[..end]),
                Parse::NeedMore,
                "prefix of {end}"
            );
        }
    }
}
