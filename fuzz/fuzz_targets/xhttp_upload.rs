//! Fuzz target: XHTTP's packet-up reorder buffer under arbitrary packets and reads; the
//! checks are `checks/xhttp_upload.rs`.
#![no_main]

#[path = "../checks/xhttp_upload.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::run(data));
