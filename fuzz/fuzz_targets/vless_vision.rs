//! Fuzz target: the XTLS Vision reader (`vless::vision::Vision::read`) on arbitrary bytes; the
//! checks are `checks/vless_vision.rs`.
#![no_main]

#[path = "../checks/vless_vision.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::run(data));
