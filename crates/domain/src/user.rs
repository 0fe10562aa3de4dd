//! Users: exactly the personal data the privacy policy lists, and nothing more.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{TelegramId, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    Ru,
    En,
}

impl Language {
    /// Every supported language, in the order pages and menus list them.
    pub const ALL: [Language; 2] = [Language::Ru, Language::En];

    /// Picks a language from Telegram's `language_code` (an IETF tag such as `en-US`).
    /// Russian for Russian-speaking users and for anyone we cannot place; English otherwise.
    pub fn from_telegram_code(code: Option<&str>) -> Self {
        match code.map(|c| c.split(['-', '_']).next().unwrap_or(c).to_ascii_lowercase()) {
            Some(c) if matches!(c.as_str(), "ru" | "uk" | "be" | "kk") => Language::Ru,
            Some(_) => Language::En,
            None => Language::Ru,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Language::Ru => "ru",
            Language::En => "en",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "ru" => Some(Language::Ru),
            "en" => Some(Language::En),
            _ => None,
        }
    }

    /// The other language, offered by a language switcher.
    pub fn other(self) -> Self {
        match self {
            Language::Ru => Language::En,
            Language::En => Language::Ru,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not a valid email address")]
pub struct InvalidEmail;

/// An email address, checked for shape only (one `@`, something on both sides, no spaces).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Email {
    type Err = InvalidEmail;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (local, domain) = s.split_once('@').ok_or(InvalidEmail)?;
        let ok = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && s.len() <= 254
            && !s.chars().any(|c| c.is_whitespace() || c.is_control());
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidEmail)
        }
    }
}

impl TryFrom<String> for Email {
    type Error = InvalidEmail;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}

/// Personal data stays out of `{:?}` output so it cannot leak into logs.
impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Email(..)")
    }
}

/// What Telegram tells us about a person, enough to create their account.
#[derive(Clone, PartialEq, Eq)]
pub struct NewUser {
    pub telegram_id: TelegramId,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub language: Language,
    /// When the person agreed to the privacy policy; `None` for accounts an operator created.
    pub consent_at: Option<OffsetDateTime>,
}

impl NewUser {
    /// An account created by the operator from a Telegram id alone.
    pub fn from_telegram_id(telegram_id: TelegramId) -> Self {
        Self {
            telegram_id,
            first_name: String::new(),
            last_name: None,
            username: None,
            language: Language::default(),
            consent_at: None,
        }
    }
}

impl fmt::Debug for NewUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewUser").finish_non_exhaustive()
    }
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub telegram_id: TelegramId,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub email: Option<Email>,
    pub language: Language,
    #[serde(with = "time::serde::rfc3339::option")]
    pub consent_at: Option<OffsetDateTime>,
    pub blocked: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Users are personal data: `{:?}` shows only the internal id.
impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The free trial is granted at most once per Telegram id, ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrialClaim {
    Granted,
    AlreadyUsed,
}

impl TrialClaim {
    pub fn decide(already_claimed: bool) -> Self {
        if already_claimed {
            TrialClaim::AlreadyUsed
        } else {
            TrialClaim::Granted
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_a_code_that_reads_back_and_an_other_that_differs() {
        for language in Language::ALL {
            assert_eq!(Language::from_code(language.code()), Some(language));
            assert_ne!(language.other(), language);
            assert_eq!(language.other().other(), language);
        }
        assert_eq!(Language::from_code("de"), None);
    }

    #[test]
    fn language_follows_telegram_code() {
        assert_eq!(Language::from_telegram_code(Some("en-US")), Language::En);
        assert_eq!(Language::from_telegram_code(Some("ru")), Language::Ru);
        assert_eq!(Language::from_telegram_code(Some("de")), Language::En);
        assert_eq!(Language::from_telegram_code(None), Language::Ru);
    }

    #[test]
    fn emails_are_checked_for_shape() {
        assert!("a@b.ru".parse::<Email>().is_ok());
        assert!(" a@b.ru ".parse::<Email>().is_ok());
        for bad in [
            "", "a", "a@b", "@b.ru", "a@@b.ru", "a b@c.ru", "a@.ru", "a@b.",
        ] {
            assert!(bad.parse::<Email>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn the_trial_is_granted_only_once() {
        assert_eq!(TrialClaim::decide(false), TrialClaim::Granted);
        assert_eq!(TrialClaim::decide(true), TrialClaim::AlreadyUsed);
    }
}
