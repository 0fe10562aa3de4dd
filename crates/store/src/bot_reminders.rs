//! Reminders before and at the end of a subscription, each sent at most once: a row per person,
//! subscription end and kind is claimed before the message goes out.

use domain::{from_unix_seconds, unix_seconds, Language, TelegramId, UserId};
use sqlx::Row as _;
use time::OffsetDateTime;

use crate::{Recipient, Store, StoreError};

/// A subscription ending within a window, with whom to tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ending {
    pub recipient: Recipient,
    pub ends_at: OffsetDateTime,
}

impl Store {
    /// Subscriptions of people the bot may message that end in `[from, to)`.
    pub async fn subscriptions_ending(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<Ending>, StoreError> {
        let rows = sqlx::query(
            "SELECT users.id, users.telegram_id, users.language, subscriptions.ends_at \
             FROM subscriptions JOIN users ON users.id = subscriptions.user_id \
             LEFT JOIN bot_chats ON bot_chats.user_id = users.id \
             WHERE subscriptions.ends_at >= $1 AND subscriptions.ends_at < $2 \
             AND users.blocked = 0 AND users.consent_at IS NOT NULL \
             AND COALESCE(bot_chats.bot_blocked, 0) = 0 ORDER BY subscriptions.ends_at",
        )
        .bind(unix_seconds(from))
        .bind(unix_seconds(to))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let language: String = row.try_get("language")?;
                Ok(Ending {
                    recipient: Recipient {
                        user_id: UserId(row.try_get("id")?),
                        telegram_id: TelegramId(row.try_get("telegram_id")?),
                        language: Language::from_code(&language)
                            .ok_or(StoreError::Corrupt("users.language"))?,
                    },
                    ends_at: from_unix_seconds(row.try_get("ends_at")?),
                })
            })
            .collect()
    }

    /// Claims the reminder `kind` for the subscription ending at `ends_at`; `false` if it was
    /// claimed before (then it must not be sent again).
    pub async fn claim_reminder(
        &self,
        user: UserId,
        ends_at: OffsetDateTime,
        kind: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO bot_reminders (user_id, ends_at, kind, sent_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, ends_at, kind) DO NOTHING",
        )
        .bind(user.0)
        .bind(unix_seconds(ends_at))
        .bind(kind)
        .bind(unix_seconds(now))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
