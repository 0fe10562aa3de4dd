//! milly's local client: a `vless://` link in, a SOCKS5 inbound and forwarded ports out.
//!
//! - [`ClientLink`] parses exactly the links `domain::link` prints, with typed errors for
//!   anything else.
//! - [`Outbound`] dials the node as the link says and sends one VLESS request per connection:
//!   `security=tls` (webpki roots, or any certificate when the link says `allowInsecure=1`),
//!   or `security=reality` (the reality crate's Chrome-shaped hello and HMAC certificate
//!   check) with `flow=xtls-rprx-vision` relayed by [`xtls`] over crate `xtls-stream`'s client
//!   role (padding, direct copy), the same streams and relay the node runs.
//! - [`serve_socks`] (SOCKS5 CONNECT) and [`serve_forward`] (`LOCAL=HOST:PORT`) accept local
//!   connections and [`relay`] them both ways with half-close, until a shutdown token fires.
//!
//! Not yet: SOCKS5 UDP ASSOCIATE (refused with "command not supported"), Mux/XUDP, and an
//! idle timeout on relayed connections.
//!
//! Nothing here logs a destination, an address or the user id; only counts.
#![forbid(unsafe_code)]

mod forward;
mod link;
mod outbound;
mod relay;
mod serve;
mod socks;
mod tls;
pub mod xtls;

/// Entry points for the fuzz targets in `fuzz/` and their stable tests; not an API.
#[doc(hidden)]
pub mod fuzzing {
    /// The SOCKS5 inbound's reader of the greeting and CONNECT request.
    pub use crate::socks::{accept as socks_accept, SocksError};
}

pub use forward::{Forward, ForwardError};
pub use link::{ClientLink, LinkError, LinkTransport, Security, XhttpMode, VISION_FLOW};
pub use outbound::{
    NodeStream, Opened, Outbound, OutboundError, ANNOUNCED_VERSION, CONNECT_TIMEOUT,
};
pub use relay::relay;
pub use serve::{serve_forward, serve_socks, Counters, MAX_CONNECTIONS};
pub use tls::any_certificate_config;
