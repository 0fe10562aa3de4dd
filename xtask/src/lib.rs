//! Checks the workspace against ARCHITECTURE.md's code map: layering, exclusive dependencies, and no dependency a crate does not use.
//!
//! The code map is the rule: its bullets list the product crates top to bottom and a crate may
//! only use crates listed below it; crates named in its "Dev-only crates" paragraph are never a
//! product crate's (normal) dependency; its "Dependency rules" bullets name third-party crates
//! reserved to some crates or kept out of others. `cargo test -p xtask` runs the check, and
//! `cargo run -p xtask -- code-map` prints what it finds.

mod code_map;
mod metadata;
mod usage;
mod verdict;

pub use code_map::{CodeMap, CodeMapError, DependencyRule};
pub use metadata::{Dependency, DependencyKind, MetadataError, Package, Workspace};
pub use verdict::{check, Violation};
