//! Runs the `reality_acceptor` fuzz target's checks (`fuzz/checks/reality_acceptor.rs`) on stable
//! Rust, over the committed corpus (`fuzz/corpus/reality_acceptor/`) and generated inputs.

use proptest::prelude::*;

#[path = "../../../fuzz/checks/reality_acceptor.rs"]
mod checks;

#[path = "../../../fuzz/checks/corpus.rs"]
mod corpus;

#[path = "../../../fuzz/checks/edits.rs"]
mod edits;

#[test]
fn the_reality_acceptor_checks_hold_on_the_committed_corpus() {
    for (name, bytes) in corpus::corpus("reality_acceptor") {
        println!("{name}");
        checks::run(&bytes);
    }
}

#[test]
fn the_seeds_reach_the_handshake_and_the_record_layer() {
    let seed = |name: &str| {
        corpus::corpus("reality_acceptor")
            .into_iter()
            .find(|(path, _)| path.ends_with(name))
            .map(|(_, bytes)| bytes)
            .expect("seed in the corpus")
    };
    assert_eq!(
        checks::drive(&seed("made-accepted-finished-data")),
        checks::Reached::RecordLayer
    );
    assert_eq!(
        checks::drive(&seed("made-accepted-pq")),
        checks::Reached::Handshake
    );
    assert_eq!(
        checks::drive(&seed("real-xray-reality-relayed")),
        checks::Reached::Acceptor
    );
    assert_eq!(
        checks::drive(&seed("made-replayed")),
        checks::Reached::Acceptor
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    #[test]
    fn the_reality_acceptor_fuzz_checks_hold_on_stable(input in prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..400),
        edits::edited("reality_acceptor"),
    ]) {
        checks::run(&input);
    }
}
