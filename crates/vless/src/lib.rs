//! Sans-I/O VLESS codec: request and response headers, UDP framing, Mux.Cool, XUDP, XTLS Vision.
//!
//! Everything here works on byte slices: decoders return [`Parse::Done`] with the bytes used,
//! [`Parse::NeedMore`] for a prefix, or a typed error, and never panic on input. No decoder
//! error or `Debug` output contains a user id or a destination.
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
    decode_request, encode_request, Command, Flow, Request, RequestError, UserKey, VERSION,
};
pub use response::{decode_response, encode_response, ResponseError};
