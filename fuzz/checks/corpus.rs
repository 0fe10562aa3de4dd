//! Reads a fuzz target's committed corpus (`fuzz/corpus/TARGET/`), for the stable tests that
//! run the target's checks with `cargo test`.

use std::path::PathBuf;

/// Every file of `fuzz/corpus/<target>/`, sorted by name. Panics (failing the test) when the
/// folder is missing or empty: a corpus that silently vanished would test nothing.
pub fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("corpus entry").path();
            let bytes = std::fs::read(&path).expect("corpus file");
            (path.display().to_string(), bytes)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "corpus {} is empty", dir.display());
    files
}
