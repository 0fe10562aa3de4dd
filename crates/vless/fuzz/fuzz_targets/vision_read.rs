//! Fuzz target: `vless::vision::Vision::read` on arbitrary bytes (see `vision_read_checks.rs`).
#![no_main]

#[path = "vision_read_checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::run(data));
