//! What must hold for `vless::mux::decode_frame` on any input; shared by the fuzz target and
//! a stable test.

use vless::mux::{decode_frame, encode_frame};
use vless::Parse;

/// Decodes `data` and checks the decoder's contract; panics (a finding) if it is broken.
pub fn run(data: &[u8]) {
    let Ok(Parse::Done {
        value: frame,
        consumed: used,
    }) = decode_frame(data)
    else {
        return;
    };
    assert!(used <= data.len(), "consumed more than the input");
    let bytes = &data[..used];
    assert_eq!(
        decode_frame(bytes),
        Ok(Parse::Done {
            value: frame.clone(),
            consumed: used
        })
    );
    for end in 0..used {
        assert_eq!(
            decode_frame(&bytes[..end]),
            Ok(Parse::NeedMore),
            "prefix of {end} bytes"
        );
    }
    // Re-encoding drops only padding and unknown option bits, never meaning.
    let mut again = Vec::new();
    encode_frame(&frame, &mut again).expect("decoded data fits a frame");
    assert_eq!(
        decode_frame(&again),
        Ok(Parse::Done {
            value: frame,
            consumed: again.len()
        })
    );
}
