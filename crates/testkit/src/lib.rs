//! Dev-only helpers for milly's whole-system tests, written once: the milly binary as an operator
//! runs it ([`milly`]), third-party client configs and peer processes, the checks every peer
//! runs ([`interop`]), the node behind nginx or Caddy ([`reverse_proxy`]), the docs' recipes
//! as tests run them ([`docs`]), SOCKS5, echo servers, plain HTTP, free ports and byte-exact
//! traffic.
//! Share links are `client::ClientLink`, parsed exactly as `milly client` parses them.

#![forbid(unsafe_code)]

pub mod docs;
pub mod echo;
pub mod files;
pub mod http;
pub mod interop;
pub mod milly;
pub mod pebble;
pub mod peer;
pub mod port;
pub mod probe;
pub mod process;
pub mod reverse_proxy;
pub mod singbox;
pub mod socks;
pub mod tls;
pub mod tls_site;
pub mod traffic;
pub mod user_id;
pub mod v2ray;
pub mod xray;

pub use echo::{EchoMode, TcpEcho, UdpEcho};
pub use milly::{wait_admitted, MillyError, MillyHome, Node};
pub use peer::{ClientError, Peer, PeerKind};
pub use port::{free_port, free_tcp_addr};
pub use process::{Process, ProcessError};
pub use tls_site::TlsSite;
pub use user_id::{user_uuid, with_user};
