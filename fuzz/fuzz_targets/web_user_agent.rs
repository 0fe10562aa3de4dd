//! Fuzz target: the subscription format choice (`?format=`, User-Agent rules, `Accept`) on
//! arbitrary requests; the checks are `checks/web_user_agent.rs`. The rules' file is compiled
//! here on its own (it needs only std): the web crate would bring the whole control plane into
//! every fuzz build.
#![no_main]

#[path = "../../crates/web/src/subscription/format.rs"]
mod format;

#[path = "../checks/web_user_agent.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::run(data));
