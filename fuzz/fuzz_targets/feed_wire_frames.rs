//! Fuzz target: the control link's frames (`feed-wire`) on arbitrary bytes, read as both sides
//! read them; the checks are `checks/feed_wire_frames.rs`.
#![no_main]

#[path = "../checks/feed_wire_frames.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::run(data));
