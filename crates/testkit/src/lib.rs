//! Dev-only helpers for milly's whole-system tests: share links, third-party client configs,
//! peer processes, SOCKS5, echo servers and byte-exact traffic checks.

#![forbid(unsafe_code)]

pub mod echo;
pub mod link;
pub mod milly;
pub mod peer;
pub mod port;
pub mod probe;
pub mod process;
pub mod singbox;
pub mod socks;
pub mod tls;
pub mod tls_site;
pub mod traffic;
pub mod v2ray;
pub mod xray;

pub use echo::{EchoMode, TcpEcho, UdpEcho};
pub use link::{LinkError, Security, VlessLink};
pub use milly::{wait_admitted, MillyError, MillyHome};
pub use peer::{ClientError, Peer, PeerKind};
pub use port::{free_port, free_tcp_addr};
pub use process::{Process, ProcessError};
pub use tls_site::TlsSite;
