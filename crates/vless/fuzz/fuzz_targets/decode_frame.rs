//! Fuzz target: `vless::mux::decode_frame` on arbitrary bytes (see `decode_frame_checks.rs`).
#![no_main]

#[path = "decode_frame_checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::run(data));
