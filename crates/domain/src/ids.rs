//! Identifiers: newtypes so that a Telegram id is never mistaken for an internal id.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::secret::{is_url_safe_of_len, random_url_safe};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InvalidId {
    #[error("`{0}` is not a number")]
    NotANumber(String),
    #[error("`{0}` is not a UUID")]
    NotAUuid(String),
    #[error("a subscription token is 22 URL-safe base64 characters")]
    MalformedToken,
    #[error("an account link token is 43 URL-safe base64 characters")]
    MalformedAccountLink,
    #[error("a payment return token is 32 URL-safe base64 characters")]
    MalformedReturnToken,
    #[error("an admin panel token is 43 URL-safe base64 characters")]
    MalformedAdminToken,
    #[error("a website session token is 43 URL-safe base64 characters")]
    MalformedWebSession,
}

/// The internal id of a user (the store's primary key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub i64);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A Telegram user id, as the Bot API delivers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TelegramId(pub i64);

impl fmt::Display for TelegramId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// How an operator names a user on the command line: either id works, as the CLI promises.
/// The store resolves it by trying the internal id first, then the Telegram id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserRef(pub i64);

impl FromStr for UserRef {
    type Err = InvalidId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim()
            .parse::<i64>()
            .map(UserRef)
            .map_err(|_| InvalidId::NotANumber(s.to_owned()))
    }
}

/// Our own id for a payment (distinct from the provider's id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PaymentId(pub i64);

impl fmt::Display for PaymentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The VLESS user id of one user: the credential a client presents to a node.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct VlessUuid(pub uuid::Uuid);

impl VlessUuid {
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4())
    }
    pub fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }
}

impl fmt::Display for VlessUuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// Credentials are not printed by `{:?}`, so they cannot reach a log by accident.
impl fmt::Debug for VlessUuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VlessUuid(..)")
    }
}

impl FromStr for VlessUuid {
    type Err = InvalidId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::parse_str(s)
            .map(VlessUuid)
            .map_err(|_| InvalidId::NotAUuid(s.to_owned()))
    }
}

/// The secret part of a user's subscription URL: 128 random bits, URL-safe base64 (22 chars).
/// Rotating it revokes every copy of the old URL.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SubscriptionToken(String);

impl SubscriptionToken {
    pub const RANDOM_BYTES: usize = 16;

    /// A fresh token from the operating system's CSPRNG.
    pub fn generate() -> Self {
        Self(random_url_safe::<{ Self::RANDOM_BYTES }>())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for SubscriptionToken {
    type Err = InvalidId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if !is_url_safe_of_len(s, Self::RANDOM_BYTES) {
            return Err(InvalidId::MalformedToken);
        }
        Ok(Self(s.to_owned()))
    }
}

impl fmt::Debug for SubscriptionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SubscriptionToken(..)")
    }
}

/// The secret in a card payment's return link (`/pay/return?t=...`): 192 random bits, URL-safe
/// base64 (32 chars). It shows only that payment's status, so it stands in for the payment's
/// sequential number, which anyone could count through.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ReturnToken(String);

impl ReturnToken {
    pub const RANDOM_BYTES: usize = 24;

    /// A fresh token from the operating system's CSPRNG.
    pub fn generate() -> Self {
        Self(random_url_safe::<{ Self::RANDOM_BYTES }>())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ReturnToken {
    type Err = InvalidId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if !is_url_safe_of_len(s, Self::RANDOM_BYTES) {
            return Err(InvalidId::MalformedReturnToken);
        }
        Ok(Self(s.to_owned()))
    }
}

impl fmt::Debug for ReturnToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReturnToken(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_distinct_and_round_trip() {
        let a = SubscriptionToken::generate();
        let b = SubscriptionToken::generate();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 22);
        assert_eq!(a.as_str().parse::<SubscriptionToken>(), Ok(a.clone()));
    }

    #[test]
    fn malformed_tokens_are_refused() {
        assert!("short".parse::<SubscriptionToken>().is_err());
        assert!("!!!!!!!!!!!!!!!!!!!!!!"
            .parse::<SubscriptionToken>()
            .is_err());
    }

    #[test]
    fn debug_never_shows_credentials() {
        let t = SubscriptionToken::generate();
        assert!(!format!("{t:?}").contains(t.as_str()));
        let u = VlessUuid::generate();
        assert!(!format!("{u:?}").contains(&u.to_string()));
    }

    #[test]
    fn return_tokens_are_random_strict_and_not_printed() {
        let a = ReturnToken::generate();
        assert_ne!(a, ReturnToken::generate());
        assert_eq!(a.as_str().len(), 32);
        assert_eq!(a.as_str().parse::<ReturnToken>(), Ok(a.clone()));
        assert!(!format!("{a:?}").contains(a.as_str()));
        let sub = SubscriptionToken::generate();
        assert!(sub.as_str().parse::<ReturnToken>().is_err());
        assert!("42".parse::<ReturnToken>().is_err());
    }

    #[test]
    fn user_refs_parse_numbers_only() {
        assert_eq!("42".parse::<UserRef>(), Ok(UserRef(42)));
        assert!("abc".parse::<UserRef>().is_err());
    }
}
