//! What this binary is: its version and the commit it was built from (see `build.rs`).

/// The crate version, e.g. `0.1.0`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The commit's short hash, or "unknown".
pub const COMMIT: &str = env!("MILLY_BUILD_COMMIT");

/// `0.1.0 (abc123def456)`.
pub fn describe() -> String {
    format!("{VERSION} ({COMMIT})")
}
