//! Fuzz target: the REALITY acceptor and server handshake, fed client and `dest` bytes on arbitrary
//! bytes; the checks are `checks/reality_acceptor.rs`.
#![no_main]

#[path = "../checks/reality_acceptor.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::run(data));
