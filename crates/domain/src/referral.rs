//! Referrals and gifts: the random codes their links carry, and the start parameters
//! (`https://t.me/<bot>?start=ref_<code>`, `?start=gift_<code>`) that bring them to the bot.

use std::fmt;
use std::str::FromStr;

use crate::secret::{is_url_safe_of_len, random_url_safe};

/// Telegram's start parameter allows `A-Za-z0-9_-`, at most 64 characters: URL-safe base64
/// fits, and both codes with their prefixes stay far below the limit.
const REFERRAL_PREFIX: &str = "ref_";
const GIFT_PREFIX: &str = "gift_";

/// The plan id a referral reward is granted under when the person has no subscription.
pub const REFERRAL_PLAN_ID: &str = "referral";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InvalidCode {
    #[error("a referral code is 16 URL-safe base64 characters")]
    Referral,
    #[error("a gift code is 20 URL-safe base64 characters")]
    Gift,
}

/// A person's referral code: 96 random bits, never derived from any id, so nobody can guess
/// another person's link or learn whose it is.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ReferralCode(String);

impl ReferralCode {
    pub const RANDOM_BYTES: usize = 12;

    pub fn generate() -> Self {
        Self(random_url_safe::<{ Self::RANDOM_BYTES }>())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The bot's start parameter for this code.
    pub fn start_parameter(&self) -> String {
        format!("{REFERRAL_PREFIX}{}", self.0)
    }
}

impl FromStr for ReferralCode {
    type Err = InvalidCode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if !is_url_safe_of_len(s, Self::RANDOM_BYTES) {
            return Err(InvalidCode::Referral);
        }
        Ok(Self(s.to_owned()))
    }
}

impl fmt::Debug for ReferralCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReferralCode(..)")
    }
}

/// A gift's code: 120 random bits. Whoever holds it may redeem the gift once; it is shown to
/// the buyer only.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct GiftCode(String);

impl GiftCode {
    pub const RANDOM_BYTES: usize = 15;

    pub fn generate() -> Self {
        Self(random_url_safe::<{ Self::RANDOM_BYTES }>())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The bot's start parameter for this code.
    pub fn start_parameter(&self) -> String {
        format!("{GIFT_PREFIX}{}", self.0)
    }
}

impl FromStr for GiftCode {
    type Err = InvalidCode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if !is_url_safe_of_len(s, Self::RANDOM_BYTES) {
            return Err(InvalidCode::Gift);
        }
        Ok(Self(s.to_owned()))
    }
}

impl fmt::Debug for GiftCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("GiftCode(..)")
    }
}

/// What a `/start` parameter asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartParameter {
    Referral(ReferralCode),
    Gift(GiftCode),
}

impl StartParameter {
    /// Reads `ref_<code>` or `gift_<code>`; anything else is `None`.
    pub fn parse(s: &str) -> Option<StartParameter> {
        if let Some(code) = s.strip_prefix(REFERRAL_PREFIX) {
            return code.parse().ok().map(StartParameter::Referral);
        }
        s.strip_prefix(GIFT_PREFIX)?
            .parse()
            .ok()
            .map(StartParameter::Gift)
    }

    pub fn encode(&self) -> String {
        match self {
            StartParameter::Referral(code) => code.start_parameter(),
            StartParameter::Gift(code) => code.start_parameter(),
        }
    }
}

/// `https://t.me/<bot>?start=<parameter>`.
pub fn bot_start_link(bot_username: &str, parameter: &StartParameter) -> String {
    format!("https://t.me/{bot_username}?start={}", parameter.encode())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_parameters_round_trip_and_fit_telegrams_limit() {
        let r = StartParameter::Referral(ReferralCode::generate());
        let g = StartParameter::Gift(GiftCode::generate());
        for p in [r, g] {
            let s = p.encode();
            assert!(s.len() <= 64);
            assert!(s
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
            assert_eq!(StartParameter::parse(&s), Some(p));
        }
    }

    #[test]
    fn codes_are_random_and_foreign_parameters_are_nothing() {
        assert_ne!(ReferralCode::generate(), ReferralCode::generate());
        assert_eq!(StartParameter::parse("ref_123"), None);
        assert_eq!(StartParameter::parse("gift_"), None);
        assert_eq!(StartParameter::parse("hello"), None);
        assert!(format!("{:?}", GiftCode::generate()).contains(".."));
    }
}
