//! What must hold for the REALITY ClientHello parser (`reality::ClientHello::read`) on any
//! input: the first bytes of every connection to a REALITY node. Shared by the fuzz target and
//! a stable test.

use reality::{ClientHello, Parse, RECORD_HEADER_LEN};

/// Strict prefixes checked for "need more": all of them for hellos up to this length, then a
/// spread (a real hello is under 2 KiB; every prefix of a 64 KiB one would be slow).
const PREFIXES_CHECKED: usize = 2048;

/// Reads `data`; panics (a finding) if the parser's contract breaks.
pub fn run(data: &[u8]) {
    let Ok(Parse::Done { value, consumed }) = ClientHello::read(data) else {
        return;
    };
    assert!(consumed <= data.len(), "consumed more than the input");
    // What follows the hello never changes it.
    assert_eq!(
        ClientHello::read(&data[..consumed]),
        Ok(Parse::Done {
            value: value.clone(),
            consumed
        })
    );
    // "Need more" is monotone: no strict prefix of a hello is an error or a hello.
    let step = (consumed / PREFIXES_CHECKED).max(1);
    for end in (0..consumed).step_by(step) {
        assert_eq!(
            ClientHello::read(&data[..end]),
            Ok(Parse::NeedMore),
            "prefix of {end} bytes"
        );
    }
    // The message as kept (`raw`, REALITY's AAD) parses to the same hello ...
    assert_eq!(ClientHello::parse(value.raw.clone()).as_ref(), Ok(&value));
    // ... and reads the same from one record or from records of one byte each.
    if let Ok(len) = u16::try_from(value.raw.len()) {
        if usize::from(len) <= reality::MAX_PLAINTEXT {
            let mut one = vec![22, 3, 1];
            one.extend_from_slice(&len.to_be_bytes());
            one.extend_from_slice(&value.raw);
            assert_eq!(
                ClientHello::read(&one),
                Ok(Parse::Done {
                    value: value.clone(),
                    consumed: one.len()
                })
            );
        }
    }
    if value.raw.len() <= PREFIXES_CHECKED {
        let mut bytewise = Vec::new();
        for byte in &value.raw {
            bytewise.extend_from_slice(&[22, 3, 1, 0, 1, *byte]);
        }
        assert_eq!(
            ClientHello::read(&bytewise),
            Ok(Parse::Done {
                value: value.clone(),
                consumed: bytewise.len()
            })
        );
    }
    assert!(value.session_id.len() <= 32);
    assert!(consumed >= RECORD_HEADER_LEN + value.raw.len());
}
