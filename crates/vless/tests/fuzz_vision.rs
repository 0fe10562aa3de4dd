//! Runs the `vless_vision` fuzz target's checks (`fuzz/checks/vless_vision.rs`) on stable Rust,
//! over the committed corpus (`fuzz/corpus/vless_vision/`) and a few thousand generated inputs:
//! random bytes, and padding frames after the user id with random headers and lengths.

use proptest::prelude::*;

#[path = "../../../fuzz/checks/vless_vision.rs"]
mod checks;

#[path = "../../../fuzz/checks/corpus.rs"]
mod corpus;

#[test]
fn the_vless_vision_checks_hold_on_the_committed_corpus() {
    for (name, bytes) in corpus::corpus("vless_vision") {
        println!("{name}");
        checks::run(&bytes);
    }
}

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
