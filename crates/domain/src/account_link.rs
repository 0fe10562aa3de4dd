//! The short-lived "account link" the bot gives on request: the only key to the person's data
//! rights on the website (download, email, deletion). The subscription URL is shared with apps
//! and family, so it opens nothing but the subscription; this token is random, expires within
//! [`ACCOUNT_LINK_LIFETIME_MINUTES`], and is stored only as its SHA-256 hash.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use crate::secret::{is_url_safe_of_len, random_url_safe};
use crate::InvalidId;

/// How long an account link opens the person's data page after the bot issued it.
pub const ACCOUNT_LINK_LIFETIME_MINUTES: u32 = 15;

/// The secret in `{public_url}/account/{token}`. Never stored: only [`AccountLinkHash`] is.
#[derive(Clone, PartialEq, Eq)]
pub struct AccountLinkToken(String);

impl AccountLinkToken {
    /// 256 bits from the operating system's CSPRNG (the brief asks at least 128).
    pub const RANDOM_BYTES: usize = 32;

    /// A fresh token.
    pub fn generate() -> Self {
        Self(random_url_safe::<{ Self::RANDOM_BYTES }>())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the store keeps and looks the link up by. The token has 256 random bits, so a plain
    /// hash cannot be reversed by guessing; a stolen database opens no one's page.
    pub fn hash(&self) -> AccountLinkHash {
        let digest = Sha256::digest(self.0.as_bytes());
        AccountLinkHash(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest))
    }
}

impl FromStr for AccountLinkToken {
    type Err = InvalidId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if !is_url_safe_of_len(s, Self::RANDOM_BYTES) {
            return Err(InvalidId::MalformedAccountLink);
        }
        Ok(Self(s.to_owned()))
    }
}

impl fmt::Debug for AccountLinkToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccountLinkToken(..)")
    }
}

/// The stored form of an [`AccountLinkToken`]: base64url of its SHA-256.
#[derive(Clone, PartialEq, Eq)]
pub struct AccountLinkHash(String);

impl AccountLinkHash {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccountLinkHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccountLinkHash(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_distinct_long_and_round_trip() {
        let a = AccountLinkToken::generate();
        let b = AccountLinkToken::generate();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 43);
        assert_eq!(a.as_str().parse::<AccountLinkToken>(), Ok(a.clone()));
    }

    #[test]
    fn the_hash_is_stable_and_is_not_the_token() {
        let a = AccountLinkToken::generate();
        assert_eq!(a.hash(), a.hash());
        assert_ne!(a.hash().as_str(), a.as_str());
        assert_ne!(a.hash(), AccountLinkToken::generate().hash());
    }

    #[test]
    fn subscription_tokens_and_garbage_are_not_account_links() {
        let sub = crate::SubscriptionToken::generate();
        assert!(sub.as_str().parse::<AccountLinkToken>().is_err());
        assert!("..%2F".parse::<AccountLinkToken>().is_err());
        assert!("".parse::<AccountLinkToken>().is_err());
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let t = AccountLinkToken::generate();
        assert!(!format!("{t:?}").contains(t.as_str()));
        assert!(!format!("{:?}", t.hash()).contains(t.hash().as_str()));
    }
}
