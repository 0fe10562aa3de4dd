//! Inputs for the stable tests' property runs: a corpus file after one random edit (cut, a byte
//! changed, or three bytes inserted), so generated inputs stay close to real traffic. The includer
//! provides `crate::corpus`.

use proptest::prelude::*;

/// A file of `fuzz/corpus/<target>/` after one random edit.
pub fn edited(target: &str) -> impl Strategy<Value = Vec<u8>> {
    let files: Vec<Vec<u8>> = crate::corpus::corpus(target)
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
