//! Fuzz target: a stream of Mux.Cool/XUDP frames on arbitrary bytes; the checks are
//! `checks/vless_xudp.rs`.
#![no_main]

#[path = "../checks/vless_xudp.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::run(data));
