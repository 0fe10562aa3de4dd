//! What must hold for `vless::decode_request` on any input; shared by the fuzz target and a
//! stable test, so the invariants are checked in CI without nightly.

use vless::{decode_request, encode_request, Parse};

/// Decodes `data` and checks the decoder's contract; panics (a finding) if it is broken.
pub fn run(data: &[u8]) {
    let Ok(Parse::Done {
        value: request,
        consumed: used,
    }) = decode_request(data)
    else {
        // An error or NeedMore is fine for arbitrary bytes; not panicking is the check.
        return;
    };
    assert!(used <= data.len(), "consumed more than the input");
    let header = &data[..used];

    // The header alone decodes the same way: trailing payload never changes it.
    assert_eq!(
        decode_request(header),
        Ok(Parse::Done {
            value: request.clone(),
            consumed: used
        })
    );

    // Every strict prefix of a valid header asks for more bytes, never an error.
    for end in 0..used {
        assert_eq!(
            decode_request(&header[..end]),
            Ok(Parse::NeedMore),
            "prefix of {end} bytes"
        );
    }

    // Re-encoding gives a header that decodes to the same request.
    let mut again = Vec::new();
    encode_request(&request, &mut again);
    assert_eq!(
        decode_request(&again),
        Ok(Parse::Done {
            value: request,
            consumed: again.len()
        })
    );
}
