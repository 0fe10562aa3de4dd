//! Fuzz target: the YooKassa notification body parser on arbitrary bytes; the checks are
//! `checks/billing_notification.rs`. The parser's file is compiled here on its own (it needs
//! only serde): the billing crate would bring its HTTPS client into every fuzz build.
#![no_main]

#[path = "../../crates/billing/src/notification/body.rs"]
mod notification_body;

#[path = "../checks/billing_notification.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::run(data));
