//! Fuzz target: VLESS UDP framing (`vless::udp`) on arbitrary bytes; the checks are
//! `checks/vless_udp.rs`.
#![no_main]

#[path = "../checks/vless_udp.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::run(data));
