//! Runs the `node_ws_frame` fuzz target's checks (`fuzz/checks/node_ws_frame.rs`) on stable
//! Rust, over the committed corpus (`fuzz/corpus/node_ws_frame/`) and generated headers.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;

// The codec compiled on its own, as the fuzz target does; the checks read it as `crate::frame`.
#[path = "../src/http_transport/frame.rs"]
#[allow(dead_code)]
mod frame;

#[path = "../../../fuzz/checks/node_ws_frame.rs"]
mod checks;

#[path = "../../../fuzz/checks/corpus.rs"]
mod corpus;

#[test]
fn the_ws_frame_checks_hold_on_the_committed_corpus() {
    for (name, bytes) in corpus::corpus("node_ws_frame") {
        println!("{name}");
        checks::run(&bytes);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn the_ws_frame_checks_hold_on_stable(
        first in any::<u8>(),
        second in any::<u8>(),
        rest in proptest::collection::vec(any::<u8>(), 0..40),
    ) {
        let mut input = vec![first, second | 0x80];
        input.extend(rest);
        checks::run(&input);
        checks::run(&input[1..]);
    }
}
