//! What must hold for what a REALITY node learns from `dest`'s answer
//! (`reality::DestProfile::learn`, and `DestProfile::choice` as `milly doctor` reads it), on
//! any bytes `dest` (any site on the Internet) may send.
//! Shared by the fuzz target and a stable test.

use reality::{DestProfile, Parse, MAX_PROFILE_BYTES};

/// Learns from `data`; panics (a finding) if the contract breaks.
pub fn run(data: &[u8]) {
    if let Ok(Parse::Done { consumed, .. }) = DestProfile::choice(data) {
        assert!(
            consumed <= data.len(),
            "the choice consumed more than the input"
        );
        assert_eq!(
            DestProfile::choice(&data[..consumed - 1]),
            Ok(Parse::NeedMore),
            "a choice from a cut first record"
        );
    }
    let Ok(Parse::Done { value, consumed }) = DestProfile::learn(data) else {
        return;
    };
    assert!(consumed <= data.len(), "consumed more than the input");
    assert!(
        consumed <= MAX_PROFILE_BYTES + usize::from(u16::MAX) + 5,
        "learned from far past the limit"
    );
    assert_eq!(
        DestProfile::learn(&data[..consumed]),
        Ok(Parse::Done {
            value: value.clone(),
            consumed
        })
    );
    for end in 0..consumed {
        assert_eq!(
            DestProfile::learn(&data[..end]),
            Ok(Parse::NeedMore),
            "prefix of {end} bytes"
        );
    }
    assert!(
        matches!(value.record_lens.len(), 1 | 4),
        "one or four records"
    );
    assert!(value.record_lens.iter().all(|&len| len >= 5));
    assert_eq!(value.server_hello.first(), Some(&2), "a ServerHello");
    // Reading the learned ServerHello's group again must not panic.
    let _group = value.group();
}
