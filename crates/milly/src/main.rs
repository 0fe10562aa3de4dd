//! The milly binary.
fn main() {}
