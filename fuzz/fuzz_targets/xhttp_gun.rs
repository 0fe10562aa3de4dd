//! Fuzz target: gRPC gun's message and `Hunk` decoders on arbitrary bytes; the checks are
//! `checks/xhttp_gun.rs`.
#![no_main]

#[path = "../checks/xhttp_gun.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::run(data));
