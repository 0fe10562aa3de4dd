//! `[control]`: where remote nodes reach the control plane for their feed (`milly node add`,
//! `milly node join`). Off until `listen` is set: a lone `milly serve` opens no extra port.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ControlConfig {
    /// Address `milly serve` accepts remote nodes on (mutual TLS), e.g. `0.0.0.0:7443`.
    pub listen: Option<SocketAddr>,
    /// `host:port` nodes dial, written into join strings: this server's public address and the
    /// port `listen` is reachable on from outside. Default: the host of `[service] public_url`
    /// and the port of `listen`.
    pub public_address: Option<String>,
}
