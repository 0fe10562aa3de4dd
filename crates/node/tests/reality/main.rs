//! The node with `TlsSource::Reality` on loopback, with `openssl s_server -tls1_3` playing
//! `dest`: our REALITY client (crate `xtls-stream`'s client role) gets VLESS through to an
//! echo server byte for byte, a plain TLS client sees dest's certificate, and every kind of
//! stranger ends up at dest.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod harness;
mod strangers;
mod vision;
