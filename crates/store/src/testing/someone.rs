//! One person with every kind of personal text the service keeps, each value unusual enough that
//! finding it anywhere means it came from them: what the privacy tests store, then search for.

use domain::{Language, NewUser, TelegramId};
use time::OffsetDateTime;

pub const TELEGRAM_ID: i64 = 7_770_123_456;
pub const FIRST: &str = "Zerelda";
pub const LAST: &str = "Quixotic-Marsh";
pub const USERNAME: &str = "zerelda_q_tg";
pub const EMAIL: &str = "zerelda.marsh@example.org";
/// What they ask support.
pub const SUPPORT_TEXT: &str = "My router in Vyborg-Quayside drops the tunnel";
/// What the operator answers them.
pub const SUPPORT_REPLY: &str = "Dear Zerelda, try the node in Kostomuksha-Pier";

/// Their sign-up with their whole profile, consent given at `at`.
pub fn new_user(at: OffsetDateTime) -> NewUser {
    NewUser {
        telegram_id: TelegramId(TELEGRAM_ID),
        first_name: FIRST.into(),
        last_name: Some(LAST.into()),
        username: Some(USERNAME.into()),
        language: Language::En,
        consent_at: Some(at),
    }
}

/// Each of their personal values as text: Telegram id, names, username, email, both messages.
pub fn traces() -> Vec<String> {
    let id = TELEGRAM_ID.to_string();
    let texts = [FIRST, LAST, USERNAME, EMAIL, SUPPORT_TEXT, SUPPORT_REPLY];
    std::iter::once(id)
        .chain(texts.iter().map(|t| t.to_string()))
        .collect()
}
