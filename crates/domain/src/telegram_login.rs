//! Checking what Telegram's login (the Login Widget's data, a `login_url` button's query, or the
//! `tgAuthResult` of its redirect flow) says: the fields are signed by Telegram with
//! HMAC-SHA-256 over the *data-check-string* (every field but `hash`, sorted by name, as
//! `name=value` lines joined by `\n`) under the key SHA-256(bot token). Only a fresh, correctly
//! signed set names a Telegram account; nothing in it is believed before the check.

use std::collections::BTreeMap;

use base64::Engine as _;
use hmac::{Hmac, Mac as _};
use sha2::{Digest as _, Sha256};
use time::{Duration, OffsetDateTime};

use crate::TelegramId;

/// Signed login data older than this is refused (Telegram signs it the moment the person
/// confirms; a day leaves room for a slow click and nothing more).
pub const LOGIN_MAX_AGE: Duration = Duration::days(1);
/// How far ahead of our clock `auth_date` may be (clock skew).
const FUTURE_SKEW: Duration = Duration::minutes(5);
/// Bounds on what is read: Telegram sends about seven short fields.
const MAX_FIELDS: usize = 16;
const MAX_VALUE_CHARS: usize = 1024;

/// Why login data was refused. Carries nothing of the data itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LoginRefused {
    #[error("the login data is incomplete or malformed")]
    Malformed,
    #[error("the login data is not signed by this bot")]
    BadSignature,
    #[error("the login data is too old (or from the future)")]
    Stale,
}

/// A verified login: who signed in, when Telegram signed it, and a digest of its signature
/// (so each signed set opens one session only).
#[derive(Clone, PartialEq, Eq)]
pub struct VerifiedLogin {
    pub telegram_id: TelegramId,
    pub auth_date: OffsetDateTime,
    pub signature_digest: String,
}

impl std::fmt::Debug for VerifiedLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedLogin")
            .field("auth_date", &self.auth_date)
            .finish_non_exhaustive()
    }
}

/// Checks `fields` (including `hash`) against `bot_token` at `now`.
pub fn verify(
    fields: &BTreeMap<String, String>,
    bot_token: &str,
    now: OffsetDateTime,
) -> Result<VerifiedLogin, LoginRefused> {
    if fields.len() > MAX_FIELDS
        || fields
            .iter()
            .any(|(k, v)| k.len() > 64 || v.chars().count() > MAX_VALUE_CHARS)
    {
        return Err(LoginRefused::Malformed);
    }
    let sent = fields.get("hash").ok_or(LoginRefused::Malformed)?;
    let sent = decode_hex(sent).ok_or(LoginRefused::Malformed)?;
    // Verified before anything in the data is read or believed; `verify_slice` compares in
    // constant time.
    mac(fields, bot_token)
        .verify_slice(&sent)
        .map_err(|_| LoginRefused::BadSignature)?;
    let id = fields
        .get("id")
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|id| *id > 0)
        .ok_or(LoginRefused::Malformed)?;
    let auth_date = fields
        .get("auth_date")
        .and_then(|v| v.parse::<i64>().ok())
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .ok_or(LoginRefused::Malformed)?;
    if auth_date > now + FUTURE_SKEW || now - auth_date > LOGIN_MAX_AGE {
        return Err(LoginRefused::Stale);
    }
    let digest = Sha256::digest(&sent);
    Ok(VerifiedLogin {
        telegram_id: TelegramId(id),
        auth_date,
        signature_digest: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest),
    })
}

/// The `hash` Telegram would send for `fields` (every field but `hash` is signed), in lower-case
/// hex. What [`verify`] recomputes; tests and emulators sign with it.
pub fn sign(fields: &BTreeMap<String, String>, bot_token: &str) -> String {
    mac(fields, bot_token)
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The bot's numeric id: the part of its token before `:` (what Telegram's login URL takes).
pub fn bot_id(bot_token: &str) -> Option<i64> {
    bot_token
        .split_once(':')
        .and_then(|(id, _)| id.parse().ok())
        .filter(|id| *id > 0)
}

fn mac(fields: &BTreeMap<String, String>, bot_token: &str) -> Hmac<Sha256> {
    let key = Sha256::digest(bot_token.as_bytes());
    // A BTreeMap iterates in byte order of the names: the data-check-string's order.
    let check = fields
        .iter()
        .filter(|(k, _)| k.as_str() != "hash")
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut mac =
        <Hmac<Sha256> as hmac::Mac>::new_from_slice(&key).unwrap_or_else(|_| unreachable_key());
    mac.update(check.as_bytes());
    mac
}

/// HMAC takes keys of any length, so this never runs.
#[allow(clippy::panic)]
fn unreachable_key() -> Hmac<Sha256> {
    panic!("HMAC-SHA-256 refused a 32-byte key")
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11";

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
    }

    fn signed(auth_date: i64) -> BTreeMap<String, String> {
        let mut fields: BTreeMap<String, String> = [
            ("id", "424242"),
            ("first_name", "Анна"),
            ("username", "anna"),
            ("photo_url", "https://t.me/i/userpic/320/anna.jpg"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        fields.insert("auth_date".into(), auth_date.to_string());
        let hash = sign(&fields, TOKEN);
        fields.insert("hash".into(), hash);
        fields
    }

    #[test]
    fn a_known_good_signature_matches_telegrams_algorithm() {
        // Computed independently: printf 'auth_date=1\nid=2' | openssl dgst -sha256 -mac HMAC
        //   -macopt hexkey:$(printf '123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11' | sha256sum)
        let fields: BTreeMap<String, String> = [("id", "2"), ("auth_date", "1")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        assert_eq!(sign(&fields, TOKEN), KNOWN_GOOD);
    }

    const KNOWN_GOOD: &str = "2d5a91ece6803a5006b80d2c1e9f02c8a06f03879955200943587de78eb7503a";

    #[test]
    fn fresh_correctly_signed_data_names_the_account() {
        let at = now().unix_timestamp() - 60;
        let login = verify(&signed(at), TOKEN, now()).unwrap();
        assert_eq!(login.telegram_id, TelegramId(424_242));
        assert_eq!(login.auth_date.unix_timestamp(), at);
        assert_ne!(
            login.signature_digest,
            verify(&signed(at - 1), TOKEN, now())
                .unwrap()
                .signature_digest
        );
    }

    #[test]
    fn tampered_data_is_refused() {
        let good = signed(now().unix_timestamp());
        for (field, value) in [
            ("id", "1"),
            ("username", "mallory"),
            ("auth_date", &now().unix_timestamp().to_string()[..9]),
            ("extra", "x"),
        ] {
            let mut bad = good.clone();
            bad.insert(field.into(), value.into());
            assert_eq!(
                verify(&bad, TOKEN, now()),
                Err(LoginRefused::BadSignature),
                "{field}"
            );
        }
        let mut dropped = good.clone();
        dropped.remove("username");
        assert_eq!(
            verify(&dropped, TOKEN, now()),
            Err(LoginRefused::BadSignature)
        );
        assert_eq!(
            verify(&good, "123456:another-bot", now()),
            Err(LoginRefused::BadSignature)
        );
        let mut flipped = good.clone();
        let hash = flipped["hash"].replace('a', "b").replace('1', "2");
        flipped.insert("hash".into(), hash);
        assert_eq!(
            verify(&flipped, TOKEN, now()),
            Err(LoginRefused::BadSignature)
        );
    }

    #[test]
    fn old_future_and_malformed_data_is_refused() {
        let day = LOGIN_MAX_AGE.whole_seconds();
        let now_s = now().unix_timestamp();
        assert_eq!(
            verify(&signed(now_s - day - 1), TOKEN, now()),
            Err(LoginRefused::Stale)
        );
        assert_eq!(
            verify(&signed(now_s + 3600), TOKEN, now()),
            Err(LoginRefused::Stale)
        );
        let mut no_hash = signed(now_s);
        no_hash.remove("hash");
        assert_eq!(verify(&no_hash, TOKEN, now()), Err(LoginRefused::Malformed));
        let mut short = signed(now_s);
        short.insert("hash".into(), "abc".into());
        assert_eq!(verify(&short, TOKEN, now()), Err(LoginRefused::Malformed));
        let mut huge = signed(now_s);
        huge.insert("first_name".into(), "x".repeat(5000));
        assert_eq!(verify(&huge, TOKEN, now()), Err(LoginRefused::Malformed));
        // Correctly signed, but naming nobody.
        let mut nobody = signed(now_s);
        nobody.insert("id".into(), "-5".into());
        nobody.remove("hash");
        let hash = sign(&nobody, TOKEN);
        nobody.insert("hash".into(), hash);
        assert_eq!(verify(&nobody, TOKEN, now()), Err(LoginRefused::Malformed));
    }

    #[test]
    fn the_bot_id_is_the_tokens_prefix() {
        assert_eq!(bot_id(TOKEN), Some(123_456));
        assert_eq!(bot_id("nonsense"), None);
        assert_eq!(bot_id(":x"), None);
    }
}
