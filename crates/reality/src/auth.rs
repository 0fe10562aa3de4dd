//! REALITY's authentication of a ClientHello: the AuthKey and the sealed session id.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hkdf::Hkdf;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};

use crate::client_hello::{ClientHello, SESSION_ID_OFFSET};

/// A REALITY server's settings (Xray's `realitySettings` on an inbound).
#[derive(Clone)]
pub struct ServerConfig {
    /// The server's X25519 private key.
    pub private_key: [u8; 32],
    /// Allowed short ids, zero-padded to 8 bytes (see [`parse_short_id`]).
    pub short_ids: Vec<[u8; 8]>,
    /// Allowed SNI values, compared exactly as Xray does.
    pub server_names: Vec<String>,
    /// The largest allowed difference between the client's clock and ours; `None` accepts any.
    pub max_time_diff: Option<Duration>,
    /// Smallest client version (x.y.z) accepted; `None` accepts any.
    pub min_client_version: Option<[u8; 3]>,
    /// Largest client version accepted; `None` accepts any.
    pub max_client_version: Option<[u8; 3]>,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("short_ids", &self.short_ids.len())
            .field("server_names", &self.server_names.len())
            .field("max_time_diff", &self.max_time_diff)
            .finish_non_exhaustive()
    }
}

/// A ClientHello that proved knowledge of the server's public key.
#[derive(Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// The 32-byte key shared with this client (also the HMAC key of the certificate).
    pub auth_key: [u8; 32],
    /// The client's version bytes x.y.z.
    pub client_version: [u8; 3],
    /// The client's clock when it built the hello (whole seconds).
    pub client_time: SystemTime,
    /// The short id the client presented.
    pub short_id: [u8; 8],
    /// A value unique to this ClientHello (its session id's GCM tag, a MAC over the whole
    /// hello), for a [`crate::ReplayFilter`].
    pub replay_key: [u8; 16],
}

impl std::fmt::Debug for Authenticated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticated")
            .field("client_version", &self.client_version)
            .finish_non_exhaustive()
    }
}

/// Why a ClientHello is not (or not an allowed) REALITY client; the node then relays to `dest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Reject {
    #[error("client does not offer TLS 1.3")]
    NotTls13,
    #[error("server name not allowed")]
    ServerNameNotAllowed,
    #[error("no X25519 key share")]
    NoX25519Share,
    #[error("session id does not decrypt")]
    BadSessionId,
    #[error("client version out of range")]
    ClientVersion,
    #[error("client clock too far from ours")]
    TimeDifference,
    #[error("short id not allowed")]
    UnknownShortId,
}

/// A short id from configuration or a link is not hex of at most 16 digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("short id must be an even number of at most 16 hex digits")]
pub struct ShortIdError;

/// Parses a short id as Xray does: hex, at most 8 bytes, zero-padded on the right.
pub fn parse_short_id(text: &str) -> Result<[u8; 8], ShortIdError> {
    let bytes = hex::decode(text).map_err(|_| ShortIdError)?;
    if bytes.len() > 8 {
        return Err(ShortIdError);
    }
    let mut id = [0; 8];
    id[..bytes.len()].copy_from_slice(&bytes);
    Ok(id)
}

/// AuthKey = HKDF-SHA256(X25519(ours, theirs), salt = random[..20], info "REALITY").
/// `None` when the peer's key is a low-order point (Go's X25519 refuses those too).
pub(crate) fn auth_key(
    private_key: &[u8; 32],
    peer_public: &[u8; 32],
    random: &[u8; 32],
) -> Option<[u8; 32]> {
    let shared = StaticSecret::from(*private_key).diffie_hellman(&PublicKey::from(*peer_public));
    if !shared.was_contributory() {
        return None;
    }
    let mut key = [0; 32];
    // 32 bytes is far below HKDF's limit of 255 hash lengths.
    Hkdf::<Sha256>::new(Some(&random[..20]), shared.as_bytes())
        .expand(b"REALITY", &mut key)
        .ok()?;
    Some(key)
}

fn gcm(auth_key: &[u8; 32]) -> LessSafeKey {
    // A 32-byte key is exactly AES-256's length.
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, auth_key).unwrap_or_else(|_| unreachable!()))
}

fn nonce(random: &[u8; 32]) -> Nonce {
    let mut n = [0; 12];
    n.copy_from_slice(&random[20..]);
    Nonce::assume_unique_for_key(n)
}

/// The 16 plaintext bytes of a REALITY session id.
pub(crate) fn session_plaintext(version: [u8; 3], unix_time: u32, short_id: [u8; 8]) -> [u8; 16] {
    let mut p = [0; 16];
    p[..3].copy_from_slice(&version);
    p[4..8].copy_from_slice(&unix_time.to_be_bytes());
    p[8..].copy_from_slice(&short_id);
    p
}

/// Seals the session id into `raw` (a ClientHello message whose session id is zeroed).
pub(crate) fn seal_session_id(
    auth_key: &[u8; 32],
    random: &[u8; 32],
    raw: &mut [u8],
    plain: [u8; 16],
) {
    let mut sealed = plain.to_vec();
    // Sealing only fails for inputs longer than GCM's limit; 16 bytes are not.
    let tag = gcm(auth_key)
        .seal_in_place_separate_tag(nonce(random), Aad::from(&*raw), &mut sealed)
        .unwrap_or_else(|_| unreachable!());
    sealed.extend_from_slice(tag.as_ref());
    raw[SESSION_ID_OFFSET..SESSION_ID_OFFSET + 32].copy_from_slice(&sealed);
}

impl ServerConfig {
    /// Decides whether `hello` is an allowed REALITY client at time `now`.
    pub fn authenticate(
        &self,
        hello: &ClientHello,
        now: SystemTime,
    ) -> Result<Authenticated, Reject> {
        if !hello.offers_tls13() {
            return Err(Reject::NotTls13);
        }
        let name = hello.server_name.as_deref().unwrap_or("");
        if !self.server_names.iter().any(|n| n == name) {
            return Err(Reject::ServerNameNotAllowed);
        }
        let peer = hello.x25519_share().ok_or(Reject::NoX25519Share)?;
        if hello.session_id.len() != 32 {
            return Err(Reject::BadSessionId);
        }
        let key = auth_key(&self.private_key, &peer, &hello.random).ok_or(Reject::BadSessionId)?;
        let mut aad = hello.raw.clone();
        aad[SESSION_ID_OFFSET..SESSION_ID_OFFSET + 32].fill(0);
        let mut sealed = hello.session_id.clone();
        let plain = gcm(&key)
            .open_in_place(nonce(&hello.random), Aad::from(&aad), &mut sealed)
            .map_err(|_| Reject::BadSessionId)?;
        let client_version = [plain[0], plain[1], plain[2]];
        let secs = u32::from_be_bytes([plain[4], plain[5], plain[6], plain[7]]);
        let mut short_id = [0; 8];
        short_id.copy_from_slice(&plain[8..16]);
        let mut replay_key = [0; 16];
        replay_key.copy_from_slice(&hello.session_id[16..]);
        let client_time = UNIX_EPOCH + Duration::from_secs(u64::from(secs));

        if self
            .min_client_version
            .is_some_and(|min| client_version < min)
            || self
                .max_client_version
                .is_some_and(|max| client_version > max)
        {
            return Err(Reject::ClientVersion);
        }
        if let Some(max) = self.max_time_diff {
            let diff = now
                .duration_since(client_time)
                .or_else(|e| Ok::<_, Reject>(e.duration()))?;
            if diff > max {
                return Err(Reject::TimeDifference);
            }
        }
        if !self.short_ids.contains(&short_id) {
            return Err(Reject::UnknownShortId);
        }
        Ok(Authenticated {
            auth_key: key,
            client_version,
            client_time,
            short_id,
            replay_key,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_ids_are_zero_padded_like_xray() {
        assert_eq!(parse_short_id("").unwrap(), [0; 8]);
        assert_eq!(
            parse_short_id("abcd").unwrap(),
            [0xab, 0xcd, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(
            parse_short_id("0123456789abcdef").unwrap(),
            [1, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef]
        );
    }

    #[test]
    fn malformed_short_ids_are_refused() {
        assert_eq!(parse_short_id("abc"), Err(ShortIdError));
        assert_eq!(parse_short_id("0123456789abcdef00"), Err(ShortIdError));
        assert_eq!(parse_short_id("zz"), Err(ShortIdError));
    }

    #[test]
    fn both_ends_derive_the_same_auth_key() {
        let server = [3u8; 32];
        let client = [4u8; 32];
        let server_pub = PublicKey::from(&StaticSecret::from(server)).to_bytes();
        let client_pub = PublicKey::from(&StaticSecret::from(client)).to_bytes();
        let random = [9; 32];
        assert_eq!(
            auth_key(&server, &client_pub, &random),
            auth_key(&client, &server_pub, &random)
        );
    }

    #[test]
    fn a_low_order_client_key_gives_no_auth_key() {
        assert_eq!(auth_key(&[3; 32], &[0; 32], &[9; 32]), None);
    }
}
