//! Fuzz target: the client's `vless://` link parser (`client::ClientLink::parse`) on arbitrary
//! bytes; the checks are `checks/client_link.rs`.
#![no_main]

#[path = "../checks/client_link.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::run(data));
