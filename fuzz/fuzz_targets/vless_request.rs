//! Fuzz target: `vless::decode_request` on arbitrary bytes; the checks are
//! `checks/vless_request.rs`.
#![no_main]

#[path = "../checks/vless_request.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::run(data));
