//! The stable side of every fuzz target: the owning crate's `tests/fuzz.rs` lists its targets
//! and runs each one's checks over its committed corpus and over generated inputs with
//! `cargo test`, through these.

// Each crate's test uses the generators its targets need.
#![allow(dead_code)]

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

#[path = "corpus.rs"]
mod corpus;

pub use corpus::corpus;

/// A fuzz target as its crate's stable test runs it: its corpus (`fuzz/corpus/<name>/`), its
/// checks, and how many inputs of which kind to generate for them.
pub struct Target {
    name: &'static str,
    check: fn(&[u8]),
    cases: u32,
    inputs: BoxedStrategy<Vec<u8>>,
}

impl Target {
    /// The target `fuzz/corpus/<name>/` is the corpus of, with its checks; no inputs are
    /// generated for it until [`Target::generating`] says which.
    pub fn new(name: &'static str, check: fn(&[u8])) -> Self {
        Self {
            name,
            check,
            cases: 0,
            inputs: Just(Vec::new()).boxed(),
        }
    }

    /// Generates `cases` inputs from `inputs` for the checks.
    pub fn generating(self, cases: u32, inputs: impl Strategy<Value = Vec<u8>> + 'static) -> Self {
        Self {
            cases,
            inputs: inputs.boxed(),
            ..self
        }
    }

    /// Runs the checks on every file of the corpus, printing each name first so a failure says
    /// which file it was.
    pub fn holds_on_corpus(&self) {
        for (file, bytes) in corpus(self.name) {
            println!("{file}");
            (self.check)(&bytes);
        }
    }

    /// Runs the checks on generated inputs; a panic is a finding, shrunk to the smallest input
    /// that still fails, as `proptest!` does.
    pub fn holds_on_generated(&self) {
        let mut runner = TestRunner::new(Config::with_cases(self.cases));
        let outcome = runner.run(&self.inputs, |input| {
            (self.check)(&input);
            Ok(())
        });
        if let Err(finding) = outcome {
            panic!("{}: {finding}", self.name);
        }
    }
}

/// Random bytes, up to `max` of them.
pub fn any_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max)
}

/// `valid` inputs, whole or after one edit, or random bytes (up to `random_len` of them).
pub fn whole_edited_or_random(
    valid: impl Strategy<Value = Vec<u8>> + 'static,
    random_len: usize,
) -> impl Strategy<Value = Vec<u8>> {
    let valid = valid.boxed();
    prop_oneof![valid.clone(), edited(valid), any_bytes(random_len)]
}

/// One file of `fuzz/corpus/<target>/`.
pub fn corpus_file(target: &str) -> impl Strategy<Value = Vec<u8>> {
    let files: Vec<Vec<u8>> = corpus(target).into_iter().map(|(_, b)| b).collect();
    proptest::sample::select(files)
}

/// An input after one random edit (cut, a byte changed, or three copies of a random byte put
/// in), so generated inputs stay close to real traffic.
pub fn edited(inputs: impl Strategy<Value = Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    edited_inserting(inputs, any::<u8>().prop_map(|byte| vec![byte; 3]))
}

/// An input after one random edit: cut, a byte changed, or one of `pieces` put in (anywhere,
/// the end included).
pub fn edited_inserting(
    inputs: impl Strategy<Value = Vec<u8>>,
    pieces: impl Strategy<Value = Vec<u8>>,
) -> impl Strategy<Value = Vec<u8>> {
    (
        inputs,
        any::<prop::sample::Index>(),
        any::<u8>(),
        pieces,
        0u8..3,
    )
        .prop_map(|(mut bytes, at, byte, piece, edit)| {
            match edit {
                0 if !bytes.is_empty() => bytes.truncate(at.index(bytes.len())),
                1 if !bytes.is_empty() => {
                    let i = at.index(bytes.len());
                    bytes[i] = byte;
                }
                _ => {
                    let i = at.index(bytes.len() + 1);
                    bytes.splice(i..i, piece).for_each(drop);
                }
            }
            bytes
        })
}
