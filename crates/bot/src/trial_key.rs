//! The free trial's claim key: HMAC-SHA256 of the Telegram id under a server secret. The store
//! keeps the key forever (so the trial is once per Telegram id, ever) without keeping the id,
//! and without the secret nobody can tell whose key it is.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use domain::TelegramId;

/// The server secret behind trial claim keys. Generate it once (32 random bytes) and keep it
/// with the other secrets in the data directory: a new secret forgets who took the trial.
#[derive(Clone)]
pub struct TrialKey(Vec<u8>);

/// A secret: `{:?}` shows nothing of it.
impl std::fmt::Debug for TrialKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TrialKey(***)")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the trial secret must be at least 16 bytes")]
pub struct WeakTrialKey;

impl TrialKey {
    pub const MIN_LEN: usize = 16;

    pub fn new(secret: impl Into<Vec<u8>>) -> Result<TrialKey, WeakTrialKey> {
        let secret = secret.into();
        if secret.len() < Self::MIN_LEN {
            return Err(WeakTrialKey);
        }
        Ok(TrialKey(secret))
    }

    /// The opaque claim key for a Telegram id (64 hex digits).
    pub fn claim_key(&self, telegram_id: TelegramId) -> String {
        self.keyed_hash(&[b"milly trial v1:", telegram_id.0.to_string().as_bytes()])
    }

    /// The opaque key that remembers a Telegram id joined through a referral link (64 hex
    /// digits), under its own domain so it never equals the same id's trial key.
    pub fn referral_key(&self, telegram_id: TelegramId) -> String {
        self.keyed_hash(&[b"milly referral v1:", telegram_id.0.to_string().as_bytes()])
    }

    /// The secret Telegram sends with each webhook call (64 hex digits, as `setWebhook`'s
    /// `secret_token` allows), derived so no other secret needs keeping.
    pub fn webhook_secret(&self) -> String {
        self.keyed_hash(&[b"milly webhook v1"])
    }

    fn keyed_hash(&self, parts: &[&[u8]]) -> String {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.0) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        };
        for part in parts {
            mac.update(part);
        }
        hex::encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_keys_are_stable_per_id_and_hide_it() {
        let key = TrialKey::new(vec![7u8; 32]).unwrap();
        let a = key.claim_key(TelegramId(123_456));
        assert_eq!(a, key.claim_key(TelegramId(123_456)));
        assert_ne!(a, key.claim_key(TelegramId(123_457)));
        assert_eq!(a.len(), 64);
        assert!(!a.contains("123456"));
    }

    #[test]
    fn another_secret_gives_other_keys() {
        let a = TrialKey::new(vec![1u8; 32]).unwrap();
        let b = TrialKey::new(vec![2u8; 32]).unwrap();
        assert_ne!(a.claim_key(TelegramId(5)), b.claim_key(TelegramId(5)));
    }

    #[test]
    fn the_webhook_secret_differs_from_every_claim_key() {
        let key = TrialKey::new(vec![3u8; 32]).unwrap();
        let secret = key.webhook_secret();
        assert_eq!(secret.len(), 64);
        assert_ne!(secret, key.claim_key(TelegramId(0)));
    }

    #[test]
    fn referral_keys_differ_from_trial_keys_of_the_same_id() {
        let key = TrialKey::new(vec![4u8; 32]).unwrap();
        let id = TelegramId(123_456);
        assert_eq!(key.referral_key(id), key.referral_key(id));
        assert_ne!(key.referral_key(id), key.claim_key(id));
        assert_ne!(key.referral_key(id), key.referral_key(TelegramId(123_457)));
        assert!(!key.referral_key(id).contains("123456"));
    }

    #[test]
    fn short_secrets_are_refused() {
        assert_eq!(TrialKey::new(vec![0u8; 8]).unwrap_err(), WeakTrialKey);
    }
}
