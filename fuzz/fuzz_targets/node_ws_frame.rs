//! Fuzz target: the node's WebSocket frame headers (HTTP transports) on arbitrary bytes; the
//! checks are `checks/node_ws_frame.rs`. The codec's file is compiled here on its own (it needs
//! only `parse-outcome` and `thiserror`): the node crate would bring tokio and rustls into every
//! fuzz build.
#![no_main]

#[path = "../../crates/node/src/http_transport/frame.rs"]
#[allow(dead_code)]
mod frame;

#[path = "../checks/node_ws_frame.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::run(data));
