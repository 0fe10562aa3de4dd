//! Fuzz target: what the node learns from `dest`'s answer (`reality::DestProfile::learn`) on
//! arbitrary bytes; the checks are `checks/reality_dest_profile.rs`.
#![no_main]

#[path = "../checks/reality_dest_profile.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::run(data));
