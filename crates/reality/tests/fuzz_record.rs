//! Runs the `reality_record` fuzz target's checks (`fuzz/checks/reality_record.rs`) on stable
//! Rust, over the committed corpus (`fuzz/corpus/reality_record/`) and generated inputs.

use proptest::prelude::*;

#[path = "../../../fuzz/checks/reality_record.rs"]
mod checks;

#[path = "../../../fuzz/checks/corpus.rs"]
mod corpus;

#[path = "../../../fuzz/checks/edits.rs"]
mod edits;

#[test]
fn the_reality_record_checks_hold_on_the_committed_corpus() {
    for (name, bytes) in corpus::corpus("reality_record") {
        println!("{name}");
        checks::run(&bytes);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn the_reality_record_fuzz_checks_hold_on_stable(input in prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..400),
        edits::edited("reality_record"),
    ]) {
        checks::run(&input);
    }
}
