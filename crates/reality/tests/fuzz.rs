//! Runs the reality fuzz targets' checks (`fuzz/checks/reality_*.rs`) on stable Rust, over each
//! committed corpus (`fuzz/corpus/reality_*/`) and generated inputs: random bytes, and corpus
//! files after one edit (cut, a byte changed, bytes put in).

use proptest::prelude::*;

#[path = "../../../fuzz/checks/harness.rs"]
mod harness;

#[path = "../../../fuzz/checks/reality_acceptor.rs"]
mod acceptor;
#[path = "../../../fuzz/checks/reality_client_hello.rs"]
mod client_hello;
#[path = "../../../fuzz/checks/reality_dest_profile.rs"]
mod dest_profile;
#[path = "../../../fuzz/checks/reality_record.rs"]
mod record;

/// Each target, with how many inputs to generate for it: the acceptor's run a whole handshake
/// each, so fewer of them.
fn targets() -> [harness::Target; 4] {
    let checks = [
        ("reality_acceptor", acceptor::run as fn(&[u8]), 150),
        ("reality_client_hello", client_hello::run, 1000),
        ("reality_dest_profile", dest_profile::run, 1000),
        ("reality_record", record::run, 1000),
    ];
    checks.map(|(name, check, cases)| {
        let inputs = prop_oneof![
            harness::any_bytes(400),
            harness::edited(harness::corpus_file(name))
        ];
        harness::Target::new(name, check).generating(cases, inputs)
    })
}

#[test]
fn every_targets_checks_hold_on_its_committed_corpus() {
    for target in targets() {
        target.holds_on_corpus();
    }
}

#[test]
fn the_acceptor_seeds_reach_the_handshake_and_the_record_layer() {
    let seeds = [
        (
            "made-accepted-finished-data",
            acceptor::Reached::RecordLayer,
        ),
        ("made-accepted-pq", acceptor::Reached::Handshake),
        ("real-xray-reality-relayed", acceptor::Reached::Acceptor),
        ("made-replayed", acceptor::Reached::Acceptor),
    ];
    let corpus = harness::corpus("reality_acceptor");
    for (seed, reached) in seeds {
        let (_, bytes) = corpus
            .iter()
            .find(|(path, _)| path.ends_with(seed))
            .expect("seed in the corpus");
        assert_eq!(acceptor::drive(bytes), reached, "{seed}");
    }
}

#[test]
fn every_targets_checks_hold_on_generated_inputs() {
    for target in targets() {
        target.holds_on_generated();
    }
}
