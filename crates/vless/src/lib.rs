//! Sans-I/O VLESS codec: request and response headers, UDP framing, Mux.Cool, XUDP, XTLS Vision.
//!
//! Everything here works on byte slices: decoders return [`Parse::Done`] with the bytes used,
//! [`Parse::NeedMore`] for a prefix, or a typed error, and never panic on input. No decoder
//! error or `Debug` output contains a user id or a destination.
//!
//! How the pieces stack on one connection (inside the outer TLS or REALITY):
//!
//! 1. client → server: the request header ([`decode_request`]); server → client: the response
//!    header ([`encode_response`]) before its first payload byte.
//! 2. With [`Flow::Vision`], everything after the headers, in both directions, goes through
//!    [`vision::Vision`] (padding frames, then plain or direct copy).
//! 3. Inside that: for [`Command::Tcp`] raw bytes; for [`Command::Udp`] length-prefixed
//!    datagrams ([`udp`]); for [`Command::Mux`] Mux.Cool frames, with XUDP for UDP ([`mux`]).
#![forbid(unsafe_code)]

mod addons;
mod address;
pub mod mux;
mod parse;
mod request;
mod response;
pub mod udp;
pub mod vision;

pub use address::{Address, AddressError, Destination, MAX_DOMAIN_LEN};
pub use parse::Parse;
pub use request::{
    decode_request, encode_request, Command, Flow, LookupKey, Request, RequestError, UserKey,
    VERSION,
};
pub use response::{decode_response, encode_response, ResponseError};
