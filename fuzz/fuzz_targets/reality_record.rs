//! Fuzz target: the TLS 1.3 record layer after the handshake (`reality::RecordLayer`) on arbitrary
//! bytes; the checks are `checks/reality_record.rs`.
#![no_main]

#[path = "../checks/reality_record.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::run(data));
