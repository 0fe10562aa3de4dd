//! A person's session on the website after signing in with Telegram: a random secret in an
//! HttpOnly cookie, stored only as its SHA-256 hash, with a CSRF token derived from it for the
//! session's forms. `Debug` prints nothing secret.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use crate::secret::{is_url_safe_of_len, random_url_safe};
use crate::InvalidId;

/// A website session ends this long after sign-in (or at sign-out, whichever comes first).
pub const WEB_SESSION_DAYS: u32 = 30;

/// The session secret: 256 bits from the OS's CSPRNG, in URL-safe base64.
#[derive(Clone, PartialEq, Eq)]
pub struct WebSessionToken(String);

impl WebSessionToken {
    pub const RANDOM_BYTES: usize = 32;

    pub fn generate() -> Self {
        Self(random_url_safe::<{ Self::RANDOM_BYTES }>())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the store keeps and looks the session up by.
    pub fn hash(&self) -> WebSessionHash {
        WebSessionHash(digest(&[self.0.as_bytes()]))
    }

    /// The session's CSRF token: derived from the secret under its own label, so it needs no
    /// storage, differs per session and dies with it.
    pub fn csrf(&self) -> String {
        digest(&[b"milly web csrf\0", self.0.as_bytes()])
    }
}

fn digest(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hasher.finalize())
}

impl FromStr for WebSessionToken {
    type Err = InvalidId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if !is_url_safe_of_len(s, Self::RANDOM_BYTES) {
            return Err(InvalidId::MalformedWebSession);
        }
        Ok(Self(s.to_owned()))
    }
}

impl fmt::Debug for WebSessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebSessionToken(..)")
    }
}

/// The stored form of a [`WebSessionToken`]: base64url of its SHA-256.
#[derive(Clone, PartialEq, Eq)]
pub struct WebSessionHash(String);

impl WebSessionHash {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for WebSessionHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebSessionHash(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_hash_csrf_and_token_all_differ() {
        let a = WebSessionToken::generate();
        assert_eq!(a.as_str().parse::<WebSessionToken>(), Ok(a.clone()));
        assert_ne!(a, WebSessionToken::generate());
        assert_ne!(a.hash().as_str(), a.as_str());
        assert_ne!(a.csrf(), a.as_str());
        assert_ne!(a.csrf(), a.hash().as_str());
        assert_ne!(a.csrf(), crate::AdminToken::generate().csrf());
        assert!("short".parse::<WebSessionToken>().is_err());
        assert!(!format!("{a:?}{:?}", a.hash()).contains(a.as_str()));
    }
}
