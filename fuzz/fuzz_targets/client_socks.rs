//! Fuzz target: the client's SOCKS5 request reader on arbitrary bytes; the checks are
//! `checks/client_socks.rs`.
#![no_main]

#[path = "../checks/client_socks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::run(data));
