//! Fuzz target: the REALITY ClientHello parser (`reality::ClientHello::read`) on arbitrary bytes;
//! the checks are `checks/reality_client_hello.rs`.
#![no_main]

#[path = "../checks/reality_client_hello.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::run(data));
