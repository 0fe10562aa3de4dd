//! What must hold for the node's WebSocket frame decoding (`node::http_transport::frame`) on any
//! bytes a client or a stranger sends after the upgrade. Shared by the fuzz target and a stable
//! test; the includer provides the codec's module as `crate::frame`.

use crate::frame::{decode_header, encode_header, unmask, MAX_CONTROL_PAYLOAD};
use parse_outcome::Parse;

/// Decodes `data` as a client frame header; panics (a finding) if the codec's contract breaks.
pub fn run(data: &[u8]) {
    let Ok(Parse::Done { value, consumed }) = decode_header(data) else {
        return;
    };
    assert!(consumed <= data.len(), "consumed more than was there");
    assert!(
        matches!(consumed, 6 | 8 | 14),
        "a header is 6, 8 or 14 bytes"
    );
    if value.is_control() {
        assert!(
            value.fin && value.len <= MAX_CONTROL_PAYLOAD,
            "a bad control frame passed"
        );
    }
    // The same header, written as a client would (minimal length, mask bit, key), decodes to
    // the same value.
    if let Ok(len) = usize::try_from(value.len) {
        let mut again = Vec::new();
        encode_header(&mut again, value.opcode, len);
        if !value.fin {
            again[0] &= 0x7F;
        }
        again[1] |= 0x80;
        again.extend_from_slice(&value.mask);
        match decode_header(&again) {
            Ok(Parse::Done {
                value: back,
                consumed,
            }) => {
                assert_eq!(back, value, "the header did not round-trip");
                assert_eq!(consumed, again.len());
            }
            other => panic!("a re-encoded header did not decode: {other:?}"),
        }
    }
    // Unmasking is its own inverse at any offset.
    let mut payload = data[consumed..].to_vec();
    let original = payload.clone();
    let offset = value.len % 7;
    unmask(&mut payload, value.mask, offset);
    unmask(&mut payload, value.mask, offset);
    assert_eq!(payload, original, "unmasking twice changed the payload");
}
