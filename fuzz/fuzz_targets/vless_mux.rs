//! Fuzz target: one Mux.Cool frame (`vless::mux::decode_frame`) on arbitrary bytes; the checks are
//! `checks/vless_mux.rs`.
#![no_main]

#[path = "../checks/vless_mux.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::run(data));
