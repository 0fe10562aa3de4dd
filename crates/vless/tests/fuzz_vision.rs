//! Runs the `vision_read` fuzz target's checks on stable Rust over a few thousand inputs:
//! random bytes, and padding frames after the user id with random headers and lengths.

use proptest::prelude::*;

#[path = "../fuzz/fuzz_targets/vision_read_checks.rs"]
mod checks;

/// A cut position, the user id, then frames with random commands and lengths that may or may
/// not match what follows.
fn frames_like() -> impl Strategy<Value = Vec<u8>> {
    let frame = (
        0u8..4,
        0u16..40,
        0u16..40,
        proptest::collection::vec(any::<u8>(), 0..60),
    )
        .prop_map(|(command, content, padding, body)| {
            let mut bytes = vec![command];
            bytes.extend_from_slice(&content.to_be_bytes());
            bytes.extend_from_slice(&padding.to_be_bytes());
            bytes.extend_from_slice(&body);
            bytes
        });
    (any::<u8>(), proptest::collection::vec(frame, 0..6)).prop_map(|(cut, frames)| {
        let mut bytes = vec![cut];
        bytes.extend_from_slice(&checks::USER);
        bytes.extend_from_slice(&frames.concat());
        bytes
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn the_vision_fuzz_checks_hold_on_stable(
        input in prop_oneof![proptest::collection::vec(any::<u8>(), 0..300), frames_like()],
    ) {
        checks::run(&input);
    }
}
