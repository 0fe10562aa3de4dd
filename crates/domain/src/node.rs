//! Nodes: the VLESS servers users connect to, as the control plane describes them to clients.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NodeId(pub i64);

/// Where a node stands, as a short upper-case code such as `RU` or `EU`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Location(pub String);

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsParams {
    /// The server name clients put in SNI and verify.
    pub server_name: String,
    /// The certificate is self-signed: clients must be told to skip verification.
    pub allow_insecure: bool,
    /// How clients may carry VLESS inside the TLS; empty means plain TCP only (every node
    /// recorded before transports existed, and remote nodes given tcp alone).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transports: Vec<NodeTransport>,
}

/// A way to carry VLESS to a node, as links and profiles name it: plain TCP inside TLS or
/// REALITY, or an HTTP transport at its path (WebSocket and HTTPUpgrade over TLS only, XHTTP
/// and gRPC over TLS or REALITY).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum NodeTransport {
    Tcp,
    /// WebSocket at `path`; clients send up to 2048 bytes of early data in its header.
    Ws {
        path: String,
    },
    /// HTTPUpgrade at `path`.
    Httpupgrade {
        path: String,
    },
    /// Xray's XHTTP (splithttp) at `path`; the node takes every mode, so links say `auto`.
    Xhttp {
        path: String,
    },
    /// gRPC "gun": requests go to `/<service_name>/Tun`.
    Grpc {
        service_name: String,
    },
}

impl NodeTransport {
    /// The share link's `type=`.
    pub fn link_type(&self) -> &'static str {
        match self {
            NodeTransport::Tcp => "tcp",
            NodeTransport::Ws { .. } => "ws",
            NodeTransport::Httpupgrade { .. } => "httpupgrade",
            NodeTransport::Xhttp { .. } => "xhttp",
            NodeTransport::Grpc { .. } => "grpc",
        }
    }

    /// Whether it may run over REALITY: plain TCP, XHTTP and gRPC (as Xray allows).
    pub fn over_reality(&self) -> bool {
        matches!(
            self,
            NodeTransport::Tcp | NodeTransport::Xhttp { .. } | NodeTransport::Grpc { .. }
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RealityParams {
    /// The node's X25519 public key, URL-safe base64 without padding (as Xray prints it).
    pub public_key: String,
    /// One short id (hex, up to 16 characters) clients present.
    pub short_id: String,
    /// The server name clients put in SNI: one of the node's allowed `server_names`.
    pub server_name: String,
    /// The node's ML-DSA-65 public key (URL-safe base64 without padding) when it signs its
    /// certificate with one; links carry it as `pqv` (Xray's `mldsa65Verify`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mldsa65_verify: Option<String>,
    /// How clients may carry VLESS inside REALITY (tcp, xhttp, grpc); empty means plain TCP
    /// only, as every REALITY node recorded before transports reached REALITY.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transports: Vec<NodeTransport>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "security", rename_all = "lowercase")]
pub enum NodeSecurity {
    Tls(TlsParams),
    Reality(RealityParams),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeSpec {
    pub id: NodeId,
    pub name: String,
    pub location: Location,
    pub public_host: String,
    pub port: u16,
    pub security: NodeSecurity,
    /// For an entry node of a chain, as clients are told: the location of the exit its
    /// users' traffic leaves from (`None` elsewhere).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exits_via: Option<Location>,
}

impl NodeSpec {
    /// The transports clients may use, in the operator's order; never empty. Over REALITY
    /// only those REALITY carries (tcp, xhttp, grpc), whatever was stored.
    pub fn transports(&self) -> Vec<NodeTransport> {
        let listed: Vec<NodeTransport> = match &self.security {
            NodeSecurity::Tls(tls) => tls.transports.clone(),
            NodeSecurity::Reality(r) => r
                .transports
                .iter()
                .filter(|t| t.over_reality())
                .cloned()
                .collect(),
        };
        if listed.is_empty() {
            vec![NodeTransport::Tcp]
        } else {
            listed
        }
    }

    /// What users read in their apps: the location (`🇩🇪 Frankfurt`), or the name without
    /// one; for an entry, where it exits too (`🇷🇺 Moscow → 🇩🇪 Frankfurt`).
    pub fn label(&self) -> String {
        let here = match (self.location.0.trim(), self.name.trim()) {
            ("", "") => format!("node {}", self.id.0),
            ("", name) => name.to_owned(),
            (location, _) => location.to_owned(),
        };
        match self.exits_via.as_ref().map(|exit| exit.0.trim()) {
            Some(exit) if !exit.is_empty() => format!("{here} → {exit}"),
            _ => here,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reality(transports: Vec<NodeTransport>) -> NodeSpec {
        NodeSpec {
            id: NodeId(1),
            name: "n".into(),
            location: Location("EU".into()),
            public_host: "h".into(),
            port: 443,
            security: NodeSecurity::Reality(RealityParams {
                public_key: "k".into(),
                short_id: "ab".into(),
                server_name: "s".into(),
                mldsa65_verify: None,
                transports,
            }),
            exits_via: None,
        }
    }

    #[test]
    fn a_reality_node_stored_before_its_transports_reads_as_tcp_only() {
        let old = r#"{"security":"reality","public_key":"k","short_id":"ab","server_name":"s"}"#;
        let security: NodeSecurity = serde_json::from_str(old).unwrap();
        let spec = NodeSpec {
            security,
            ..reality(Vec::new())
        };
        assert_eq!(spec, reality(Vec::new()));
        assert_eq!(spec.transports(), [NodeTransport::Tcp]);
        // And tcp alone is stored as before.
        assert_eq!(serde_json::to_string(&spec.security).unwrap(), old);
    }

    #[test]
    fn a_reality_node_lists_xhttp_and_grpc_and_never_ws() {
        let xhttp = NodeTransport::Xhttp {
            path: "/p/xh".into(),
        };
        let grpc = NodeTransport::Grpc {
            service_name: "p.grpc".into(),
        };
        let spec = reality(vec![
            grpc.clone(),
            NodeTransport::Ws {
                path: "/p/ws".into(),
            },
            xhttp.clone(),
        ]);
        assert_eq!(spec.transports(), [grpc.clone(), xhttp.clone()]);
        let json = serde_json::to_string(&spec.security).unwrap();
        assert!(
            json.contains(r#"{"type":"grpc","service_name":"p.grpc"}"#),
            "{json}"
        );
        let back: NodeSecurity = serde_json::from_str(&json).unwrap();
        assert_eq!(back, spec.security);
        assert_eq!(
            reality(vec![NodeTransport::Httpupgrade { path: "/u".into() }]).transports(),
            [NodeTransport::Tcp]
        );
    }
}
