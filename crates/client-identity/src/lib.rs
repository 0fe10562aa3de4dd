//! Who an HTTP request comes from, decided in one place for every rate limiter and for the
//! webhook's source check: the connection's address (TCP, or the PROXY protocol header the node
//! sends), replaced by a forwarded-for header only when the connection comes from a configured
//! trusted proxy; IPv6 clients grouped by /64; per-client token buckets in bounded tables that
//! forget the least recently used client first. **Addresses are compared and counted in memory,
//! never logged or stored.**
#![forbid(unsafe_code)]

mod forwarded;
mod identity;
mod key;
mod network;
mod rate_limit;

pub use forwarded::{BadHeaderName, ForwardedHeader};
pub use identity::ClientIdentity;
pub use key::ClientKey;
pub use network::{BadNetwork, IpNetwork};
pub use rate_limit::{Limit, RateLimiter, DEFAULT_MAX_CLIENTS};
