//! Fuzz target: XHTTP's request classifier on arbitrary requests; the checks are
//! `checks/xhttp_request.rs`.
#![no_main]

#[path = "../checks/xhttp_request.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::run(data));
