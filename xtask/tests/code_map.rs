//! The workspace agrees with ARCHITECTURE.md's code map (run in CI by `cargo test --workspace`).

use std::path::Path;

#[test]
fn every_crate_uses_only_what_the_code_map_allows_and_nothing_it_does_not_use() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let markdown = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let map = xtask::CodeMap::parse(&markdown).expect("the code map parses");
    assert!(
        map.layers.len() >= 10,
        "the code map lists the product crates: {map:?}"
    );
    let workspace = xtask::Workspace::load(&root).expect("cargo metadata");
    assert!(workspace.package("milly").is_some());
    let violations = xtask::check(&workspace, &map);
    let report: Vec<String> = violations.iter().map(ToString::to_string).collect();
    assert!(
        report.is_empty(),
        "ARCHITECTURE.md and the workspace disagree:\n{}",
        report.join("\n")
    );
}
