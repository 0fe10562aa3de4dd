//! What the control plane keeps about its nodes beyond what clients see: how each is run
//! (embedded or remote), the operator's switches, the secrets pushed to it, the one-time join
//! token that enrols it and the credential it enrolled with. Nothing here is personal data.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use crate::{NodeId, NodeSpec};

/// How a node gets its access table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    /// Inside `milly serve`, configured by `[node]` in milly.toml, fed in-process.
    Embedded,
    /// On another server, enrolled with `milly node join`, fed over the network.
    Remote,
}

impl NodeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Embedded => "embedded",
            Self::Remote => "remote",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "embedded" => Some(Self::Embedded),
            "remote" => Some(Self::Remote),
            _ => None,
        }
    }
}

/// A node as the operator manages it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRecord {
    /// What clients are told (address, security's public half).
    pub spec: NodeSpec,
    pub kind: NodeKind,
    /// Disabled nodes are left out of links and subscriptions; they keep their feed.
    pub enabled: bool,
    /// The operator's order in links and subscriptions (smaller first, then by id).
    pub position: i64,
    /// For an entry node: the exit node its users' connections leave from.
    pub via: Option<NodeId>,
    /// The credential the node enrolled with; `None` until it joins (or for the embedded node).
    pub credential: Option<CertPin>,
}

/// What a remote node last reported: aggregate figures only, never anything per user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeStatus {
    pub software_version: String,
    pub applied_revision: u64,
    pub connections: u64,
    pub bytes_up: u64,
    pub bytes_down: u64,
    pub last_seen_at: OffsetDateTime,
}

/// The secrets and settings a node needs and clients never see, kept by the control plane and
/// pushed to the node. Printing one shows its kind only.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "security", rename_all = "lowercase")]
pub enum NodePrivateSettings {
    Reality {
        /// X25519 private key, URL-safe base64 without padding (as `milly keygen` prints it).
        private_key: String,
        /// Every short id the node accepts (hex).
        short_ids: Vec<String>,
        /// Where strangers are relayed and whose certificate the handshake mirrors.
        dest: String,
        /// The server names clients may put in SNI.
        server_names: Vec<String>,
        /// The largest clock difference accepted from a client (0: any).
        max_time_diff_ms: u64,
    },
    Tls {
        certificate_pem: String,
        private_key_pem: String,
    },
}

impl fmt::Debug for NodePrivateSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Reality { .. } => f.write_str("NodePrivateSettings::Reality(..)"),
            Self::Tls { .. } => f.write_str("NodePrivateSettings::Tls(..)"),
        }
    }
}

/// An entry node's node-to-node credential: the VLESS id it presents to its exit, which the
/// exit accepts like a user's that never expires. No user holds it. Prints as `***`; stored
/// as 32 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChainKey(pub [u8; 16]);

impl ChainKey {
    /// A fresh key from the operating system's CSPRNG.
    pub fn generate() -> Self {
        Self(crate::secret::random_bytes())
    }

    /// The stored form: 32 lower-case hex digits.
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }

    /// Reads the stored form back; `None` unless it is 32 hex digits.
    pub fn from_hex(s: &str) -> Option<Self> {
        let s = s.trim().as_bytes();
        if s.len() != 32 {
            return None;
        }
        let mut key = [0u8; 16];
        for (byte, pair) in key.iter_mut().zip(s.chunks_exact(2)) {
            *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
        }
        Some(Self(key))
    }
}

impl fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChainKey(***)")
    }
}

/// The secret of a join string: 256 random bits, usable once within
/// [`JOIN_TOKEN_LIFETIME_MINUTES`]. Never stored: only [`JoinTokenHash`] is. Prints as `***`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct JoinToken([u8; 32]);

/// How long a join string enrols a node after `milly node add` printed it.
pub const JOIN_TOKEN_LIFETIME_MINUTES: i64 = 60;

impl JoinToken {
    /// A fresh token from the operating system's CSPRNG.
    pub fn generate() -> Self {
        Self(crate::secret::random_bytes())
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// What the store keeps: the token has 256 random bits, so a plain hash cannot be reversed.
    pub fn hash(&self) -> JoinTokenHash {
        JoinTokenHash(hex(&Sha256::digest(self.0)))
    }
}

impl fmt::Debug for JoinToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JoinToken(***)")
    }
}

/// The stored form of a [`JoinToken`]: hex of its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinTokenHash(pub String);

/// A certificate pin: the SHA-256 of a certificate's DER. A node pins the control plane's
/// certificate with it, and the control plane knows each node by the pin of the client
/// certificate it made when it joined. Public: it names a certificate and opens nothing.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CertPin(pub [u8; 32]);

impl CertPin {
    /// The pin of one X.509 certificate in DER, as TLS sends it.
    pub fn of_der(der: &[u8]) -> Self {
        Self(Sha256::digest(der).into())
    }

    /// Whether `der` is the pinned certificate.
    pub fn matches(&self, der: &[u8]) -> bool {
        *self == Self::of_der(der)
    }
}

/// Lower-case hex, 64 digits (as the store and node.toml hold it).
impl fmt::Display for CertPin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex(&self.0))
    }
}

impl fmt::Debug for CertPin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CertPin({self})")
    }
}

/// A pin's text is not 64 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a certificate pin is 64 hex digits (a SHA-256)")]
pub struct InvalidPin;

impl std::str::FromStr for CertPin {
    type Err = InvalidPin;

    fn from_str(s: &str) -> Result<Self, InvalidPin> {
        let s = s.trim().as_bytes();
        if s.len() != 64 {
            return Err(InvalidPin);
        }
        let mut pin = [0u8; 32];
        for (byte, pair) in pin.iter_mut().zip(s.chunks_exact(2)) {
            let text = std::str::from_utf8(pair).map_err(|_| InvalidPin)?;
            *byte = u8::from_str_radix(text, 16).map_err(|_| InvalidPin)?;
        }
        Ok(Self(pin))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_tokens_are_fresh_and_their_hash_hides_them() {
        let a = JoinToken::generate();
        assert_ne!(a, JoinToken::generate());
        assert_eq!(a.hash(), JoinToken::from_bytes(*a.as_bytes()).hash());
        assert_eq!(a.hash().0.len(), 64);
        assert_eq!(format!("{a:?}"), "JoinToken(***)");
    }

    #[test]
    fn a_pin_is_the_sha256_of_the_der_and_reads_back_from_hex() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        let pin = CertPin::of_der(b"abc");
        assert_eq!(
            pin.to_string(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(pin.matches(b"abc") && !pin.matches(b"abd"));
        assert_eq!(pin.to_string().parse::<CertPin>(), Ok(pin));
        assert_eq!(pin.to_string().to_uppercase().parse::<CertPin>(), Ok(pin));
        assert_eq!(pin.to_string()[1..].parse::<CertPin>(), Err(InvalidPin));
        assert_eq!(
            format!("{}g", &pin.to_string()[1..]).parse::<CertPin>(),
            Err(InvalidPin)
        );
    }

    #[test]
    fn private_settings_never_print_their_keys() {
        let settings = NodePrivateSettings::Reality {
            private_key: "secret-key".into(),
            short_ids: vec!["ab".into()],
            dest: "www.example.org:443".into(),
            server_names: vec!["www.example.org".into()],
            max_time_diff_ms: 60_000,
        };
        assert!(!format!("{settings:?}").contains("secret-key"));
    }

    #[test]
    fn chain_keys_are_fresh_read_back_from_hex_and_never_print() {
        let key = ChainKey::generate();
        assert_ne!(key, ChainKey::generate());
        assert_eq!(ChainKey::from_hex(&key.to_hex()), Some(key));
        assert_eq!(key.to_hex().len(), 32);
        assert_eq!(ChainKey::from_hex("abc"), None);
        assert_eq!(ChainKey::from_hex(&"g".repeat(32)), None);
        assert_eq!(format!("{key:?}"), "ChainKey(***)");
    }

    #[test]
    fn node_kinds_read_back_what_they_write() {
        for kind in [NodeKind::Embedded, NodeKind::Remote] {
            assert_eq!(NodeKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(NodeKind::parse("other"), None);
    }
}
