//! Runs the `reality_record` fuzz target's checks (`fuzz/checks/reality_record.rs`) on stable
//! Rust, over the committed corpus (`fuzz/corpus/reality_record/`) and generated inputs.

use proptest::prelude::*;

#[path = "../../../fuzz/checks/reality_record.rs"]
mod checks;

#[path = "../../../fuzz/checks/corpus.rs"]
mod corpus;

#[test]
fn the_reality_record_checks_hold_on_the_committed_corpus() {
    for (name, bytes) in corpus::corpus("reality_record") {
        println!("{name}");
        checks::run(&bytes);
    }
}

/// A corpus file after one random edit: cut, a byte changed, or bytes inserted.
fn edited() -> impl Strategy<Value = Vec<u8>> {
    let files: Vec<Vec<u8>> = corpus::corpus("reality_record")
        .into_iter()
        .map(|(_, b)| b)
        .collect();
    (
        proptest::sample::select(files),
        any::<prop::sample::Index>(),
        any::<u8>(),
        0u8..3,
    )
        .prop_map(|(mut bytes, at, byte, edit)| {
            if bytes.is_empty() {
                return bytes;
            }
            let i = at.index(bytes.len());
            match edit {
                0 => bytes.truncate(i),
                1 => bytes[i] = byte,
                _ => bytes.splice(i..i, [byte; 3]).for_each(drop),
            }
            bytes
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn the_reality_record_fuzz_checks_hold_on_stable(input in prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..400),
        edited(),
    ]) {
        checks::run(&input);
    }
}
