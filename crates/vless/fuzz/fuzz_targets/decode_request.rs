//! Fuzz target: `vless::decode_request` on arbitrary bytes (see `decode_request_checks.rs`).
#![no_main]

#[path = "decode_request_checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::run(data));
