//! The messages of the control link: what a node sends the control plane, and what it receives.

use std::fmt;

use serde::{Deserialize, Serialize};

use domain::JoinToken;

/// Most entries in one [`ToNode::SnapshotChunk`], and most upserts plus revocations in one
/// [`ToNode::Changes`] (a bigger change is sent as a snapshot). At about 26 bytes an entry a
/// chunk stays near 210 KiB, well inside [`crate::MAX_FRAME`], so a table of a million users
/// streams in bounded frames.
pub const MAX_CHUNK_ENTRIES: usize = 8192;

/// One user who may connect: the VLESS user id and when access ends (unix seconds). Nothing
/// else about a user ever crosses the link.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireEntry {
    pub key: [u8; 16],
    pub expires_at: i64,
}

/// User ids are not printed (they are the users' credentials).
impl fmt::Debug for WireEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WireEntry")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// What a node already holds, from its cache: the control plane's epoch (which revision
/// history its revisions belong to) and the last revision it applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resume {
    pub epoch: [u8; 16],
    pub revision: u64,
}

/// Node → control plane.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ToControl {
    /// Enrollment, on a connection made with the node's new client certificate: the control
    /// plane records that certificate's pin as the node's credential.
    Join {
        protocol_version: u16,
        token: JoinToken,
    },
    /// The first message of every feed connection.
    Hello {
        protocol_version: u16,
        software_version: String,
        resume: Option<Resume>,
    },
    /// The node's table is at `revision` (after a snapshot or changes).
    Applied { revision: u64 },
    /// Aggregate counters only, never per user: connections open now, and bytes relayed since
    /// the node process started (`up` from clients, `down` towards them).
    Stats {
        connections: u64,
        bytes_up: u64,
        bytes_down: u64,
    },
    /// The answer to [`ToNode::Ping`] with its nonce.
    Pong { nonce: u64 },
}

/// Why the control plane refuses a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    /// No join token like this one was issued.
    UnknownToken,
    /// The join token was already used.
    TokenUsed,
    /// The join token is past its validity.
    TokenExpired,
    /// The node's certificate belongs to no node (never joined, or removed).
    UnknownNode,
    /// The node is disabled by the operator.
    Disabled,
    /// The node speaks a protocol version the control plane does not.
    Unsupported,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refusal::UnknownToken => "the join token is unknown",
            Refusal::TokenUsed => "the join token was already used",
            Refusal::TokenExpired => "the join token has expired",
            Refusal::UnknownNode => "this node is not known (never joined, or removed)",
            Refusal::Disabled => "this node is disabled",
            Refusal::Unsupported => "the control plane does not speak this protocol version",
        })
    }
}

/// Control plane → node. `Debug` counts entries instead of printing user ids.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ToNode {
    /// Enrollment accepted: the name the operator gave the node.
    Joined {
        node_name: String,
    },
    Refused {
        reason: Refusal,
    },
    /// How the node serves users (sent after `Hello`, and again whenever it changes). Boxed:
    /// the largest message by far, and sent seldom (postcard encodes it as unboxed).
    Settings(Box<NodeSettings>),
    /// A full table follows in `SnapshotChunk`s: `total` entries at `revision` of `epoch`.
    SnapshotBegin {
        epoch: [u8; 16],
        revision: u64,
        total: u64,
    },
    /// At most [`MAX_CHUNK_ENTRIES`] entries of the snapshot under way.
    SnapshotChunk {
        entries: Vec<WireEntry>,
    },
    /// The snapshot is complete: the node replaces its table with it.
    SnapshotEnd,
    /// What changed up to `revision`, since the revision the node holds.
    Changes {
        revision: u64,
        upserts: Vec<WireEntry>,
        revoked: Vec<[u8; 16]>,
    },
    /// Answer with [`ToControl::Pong`] carrying the same nonce.
    Ping {
        nonce: u64,
    },
}

impl fmt::Debug for ToNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ToNode::Joined { node_name } => f
                .debug_struct("Joined")
                .field("node_name", node_name)
                .finish(),
            ToNode::Refused { reason } => {
                f.debug_struct("Refused").field("reason", reason).finish()
            }
            ToNode::Settings(settings) => f.debug_tuple("Settings").field(settings).finish(),
            ToNode::SnapshotBegin {
                epoch,
                revision,
                total,
            } => f
                .debug_struct("SnapshotBegin")
                .field("epoch", &hex::encode(epoch))
                .field("revision", revision)
                .field("total", total)
                .finish(),
            ToNode::SnapshotChunk { entries } => f
                .debug_struct("SnapshotChunk")
                .field("entries", &entries.len())
                .finish(),
            ToNode::SnapshotEnd => f.write_str("SnapshotEnd"),
            ToNode::Changes {
                revision,
                upserts,
                revoked,
            } => f
                .debug_struct("Changes")
                .field("revision", revision)
                .field("upserts", &upserts.len())
                .field("revoked", &revoked.len())
                .finish(),
            ToNode::Ping { nonce } => f.debug_struct("Ping").field("nonce", nonce).finish(),
        }
    }
}

/// How a node serves users: its port and its security, and its place in entry → exit chains.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeSettings {
    pub port: u16,
    pub security: SecuritySettings,
    /// For an entry node: the exit every user's connection goes on to (the entry connects
    /// nobody out itself).
    /// Boxed: most nodes are no entry, and the settings message stays small.
    pub upstream: Option<Box<Upstream>>,
    /// For an exit node: the node-to-node keys of the entries that go through it, accepted
    /// like users' ids that never expire (and outside the caps meant for one person).
    pub peer_keys: Vec<[u8; 16]>,
    /// The HTTP transports the node serves on its port besides plain TCP, each at its exact
    /// path (over REALITY only XHTTP and gRPC).
    pub http: HttpSettings,
}

/// The HTTP transports' paths, each when on: WebSocket's and HTTPUpgrade's (`<secret
/// path>/ws`, `<secret path>/up`), XHTTP's (`<secret path>/xh`) and gRPC's service name
/// (`<secret>.grpc`, requested as `/<name>/Tun`).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpSettings {
    pub ws_path: Option<String>,
    pub httpupgrade_path: Option<String>,
    pub xhttp_path: Option<String>,
    pub grpc_service_name: Option<String>,
}

/// The paths never print (they keep scanners out): only which transports are on.
impl fmt::Debug for HttpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpSettings")
            .field("ws", &self.ws_path.is_some())
            .field("httpupgrade", &self.httpupgrade_path.is_some())
            .field("xhttp", &self.xhttp_path.is_some())
            .field("grpc", &self.grpc_service_name.is_some())
            .finish()
    }
}

/// Keys never print: the upstream's is shown as present, the peers' are counted.
impl fmt::Debug for NodeSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeSettings")
            .field("port", &self.port)
            .field("security", &self.security)
            .field("upstream", &self.upstream)
            .field("peer_keys", &self.peer_keys.len())
            .field("http", &self.http)
            .finish()
    }
}

/// Where an entry node carries its users: the exit's public address and the public half of
/// its REALITY settings (as its users' links carry them), and the entry's own key, which the
/// exit accepts and no user holds.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upstream {
    /// `host:port` as clients of the exit dial it.
    pub host: String,
    pub port: u16,
    /// The exit's X25519 public key.
    pub public_key: [u8; 32],
    /// A short id the exit accepts (hex, up to 16 digits).
    pub short_id: String,
    /// A server name the exit accepts in SNI.
    pub server_name: String,
    /// The entry's node-to-node VLESS id.
    pub key: [u8; 16],
}

/// The key never prints.
impl fmt::Debug for Upstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upstream")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("server_name", &self.server_name)
            .field("key", &format_args!("***"))
            .finish_non_exhaustive()
    }
}

/// TLS with a certificate, or REALITY (mirroring `dest` for everyone else).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SecuritySettings {
    /// A PEM certificate chain and its PEM private key.
    Tls {
        certificate_pem: String,
        private_key_pem: String,
    },
    /// Xray's `realitySettings`: the X25519 private key, short ids (hex, up to 16 digits),
    /// `dest` (`host:port`), the server names clients may send, the largest clock difference
    /// accepted (0: any) and the optional ML-DSA-65 seed (`mldsa65Seed`).
    Reality {
        private_key: [u8; 32],
        short_ids: Vec<String>,
        dest: String,
        server_names: Vec<String>,
        max_time_diff_ms: u64,
        mldsa65_seed: Option<[u8; 32]>,
    },
}

/// Private keys never print.
impl fmt::Debug for SecuritySettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecuritySettings::Tls {
                certificate_pem, ..
            } => f
                .debug_struct("Tls")
                .field(
                    "certificate_pem",
                    &format_args!("{} bytes", certificate_pem.len()),
                )
                .field("private_key_pem", &format_args!("***"))
                .finish(),
            SecuritySettings::Reality {
                short_ids,
                dest,
                server_names,
                max_time_diff_ms,
                mldsa65_seed,
                ..
            } => f
                .debug_struct("Reality")
                .field("private_key", &format_args!("***"))
                .field("short_ids", short_ids)
                .field("dest", dest)
                .field("server_names", server_names)
                .field("max_time_diff_ms", max_time_diff_ms)
                .field("mldsa65_seed", &mldsa65_seed.map(|_| format_args!("***")))
                .finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_settings_never_prints_private_keys() {
        let reality = SecuritySettings::Reality {
            private_key: [0x42; 32],
            short_ids: vec!["0123abcd".into()],
            dest: "www.example.com:443".into(),
            server_names: vec!["www.example.com".into()],
            max_time_diff_ms: 0,
            mldsa65_seed: Some([0x43; 32]),
        };
        let printed = format!("{reality:?}");
        assert!(printed.contains("0123abcd") && printed.contains("www.example.com:443"));
        assert!(
            !printed.contains("66") && !printed.contains("67"),
            "{printed}"
        );
        let tls = SecuritySettings::Tls {
            certificate_pem: "CERT".into(),
            private_key_pem: "-----BEGIN PRIVATE KEY----- SECRET".into(),
        };
        let printed = format!(
            "{:?}",
            NodeSettings {
                port: 443,
                security: tls,
                upstream: Some(Box::new(Upstream {
                    host: "exit.example.com".into(),
                    port: 8443,
                    public_key: [1; 32],
                    short_id: "ab".into(),
                    server_name: "www.example.com".into(),
                    key: [0x99; 16],
                })),
                peer_keys: vec![[0x98; 16]],
                http: HttpSettings {
                    ws_path: Some("/PATHSECRET/ws".into()),
                    httpupgrade_path: None,
                    xhttp_path: Some("/PATHSECRET/xh".into()),
                    grpc_service_name: Some("PATHSECRET.grpc".into()),
                },
            }
        );
        assert!(
            !printed.contains("SECRET")
                && printed.contains("443")
                && printed.contains("ws: true")
                && printed.contains("grpc: true"),
            "{printed}"
        );
        assert!(
            !printed.contains("153") && !printed.contains("152"),
            "{printed}"
        );
    }

    #[test]
    fn debug_of_entries_and_joins_never_prints_ids_or_tokens() {
        let entry = WireEntry {
            key: [0x99; 16],
            expires_at: 5,
        };
        assert!(!format!("{entry:?}").contains("153"));
        let printed = format!(
            "{:?}",
            ToNode::SnapshotChunk {
                entries: vec![entry]
            }
        );
        assert!(!printed.contains("153"), "{printed}");
        let changes = ToNode::Changes {
            revision: 7,
            upserts: vec![entry],
            revoked: vec![[0x99; 16]],
        };
        let printed = format!("{changes:?}");
        assert!(
            !printed.contains("153") && printed.contains('7'),
            "{printed}"
        );
        let join = ToControl::Join {
            protocol_version: 1,
            token: JoinToken::from_bytes([0x99; 32]),
        };
        assert!(!format!("{join:?}").contains("153"));
    }
}
