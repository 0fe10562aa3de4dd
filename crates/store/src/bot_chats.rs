//! The Telegram bot's own records: which updates it handled (so a redelivered update acts once)
//! and each person's conversation state (so a restart loses nothing).

use domain::{unix_seconds, Language, TelegramId, UserId};
use sqlx::Row as _;
use time::OffsetDateTime;

use crate::{Store, StoreError};

/// Where a person's conversation with the bot stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BotChat {
    /// What the person's next text message is for (`"email"`, `"support"`), if anything.
    pub awaiting: Option<String>,
    /// The bot's menu message in their chat, edited in place.
    pub menu_message_id: Option<i64>,
    /// The person blocked the bot; nothing is sent to them until they write again.
    pub bot_blocked: bool,
}

/// Someone the bot may message: consented, not blocked by the operator, not blocking the bot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recipient {
    pub user_id: UserId,
    pub telegram_id: TelegramId,
    pub language: Language,
}

impl Store {
    /// Whether the bot already handled this Telegram update.
    pub async fn bot_update_handled(&self, update_id: i64) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT 1 AS one FROM bot_updates WHERE update_id = $1")
            .bind(update_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// Records that the bot handled this update; `false` if it was recorded before.
    pub async fn mark_bot_update_handled(
        &self,
        update_id: i64,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO bot_updates (update_id, handled_at) VALUES ($1, $2) \
             ON CONFLICT (update_id) DO NOTHING",
        )
        .bind(update_id)
        .bind(unix_seconds(now))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Forgets handled update ids older than `before` (Telegram keeps updates for 24 hours).
    pub async fn prune_bot_updates(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM bot_updates WHERE handled_at < $1")
            .bind(unix_seconds(before))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    pub async fn bot_chat(&self, user: UserId) -> Result<BotChat, StoreError> {
        let row = sqlx::query(
            "SELECT awaiting, menu_message_id, bot_blocked FROM bot_chats WHERE user_id = $1",
        )
        .bind(user.0)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(BotChat::default());
        };
        let blocked: i64 = row.try_get("bot_blocked")?;
        Ok(BotChat {
            awaiting: row.try_get("awaiting")?,
            menu_message_id: row.try_get("menu_message_id")?,
            bot_blocked: blocked != 0,
        })
    }

    /// Sets what the person's next text message is for (`None`: nothing).
    pub async fn set_bot_awaiting(
        &self,
        user: UserId,
        awaiting: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.upsert_bot_chat(user, "awaiting", BotValue::Text(awaiting), now)
            .await
    }

    pub async fn set_bot_menu_message(
        &self,
        user: UserId,
        message_id: Option<i64>,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.upsert_bot_chat(user, "menu_message_id", BotValue::Int(message_id), now)
            .await
    }

    /// Marks that the person blocked the bot (or, when they write again, unblocked it).
    pub async fn set_bot_blocked_by_user(
        &self,
        user: UserId,
        blocked: bool,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let flag = Some(i64::from(blocked));
        self.upsert_bot_chat(user, "bot_blocked", BotValue::Int(flag), now)
            .await
    }

    async fn upsert_bot_chat(
        &self,
        user: UserId,
        column: &'static str,
        value: BotValue<'_>,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO bot_chats (user_id, {column}, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO UPDATE SET {column} = excluded.{column}, \
             updated_at = excluded.updated_at"
        );
        let query = sqlx::query(&sql).bind(user.0);
        let query = match value {
            BotValue::Text(v) => query.bind(v),
            BotValue::Int(v) => query.bind(v),
        };
        query
            .bind(unix_seconds(now))
            .execute(&self.pool)
            .await
            .map_err(|err| match err {
                sqlx::Error::Database(ref db) if db.is_foreign_key_violation() => {
                    StoreError::UserNotFound
                }
                other => other.into(),
            })?;
        Ok(())
    }

    /// People a broadcast may reach: consented, not blocked by the operator, not blocking the
    /// bot; with `active_at`, only those whose subscription has not ended by then.
    pub async fn bot_recipients(
        &self,
        active_at: Option<OffsetDateTime>,
    ) -> Result<Vec<Recipient>, StoreError> {
        let active = if active_at.is_some() {
            "AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.user_id = users.id \
             AND s.ends_at > $1)"
        } else {
            "AND $1 = $1"
        };
        let sql = format!(
            "SELECT users.id, users.telegram_id, users.language FROM users \
             LEFT JOIN bot_chats ON bot_chats.user_id = users.id \
             WHERE users.blocked = 0 AND users.consent_at IS NOT NULL \
             AND COALESCE(bot_chats.bot_blocked, 0) = 0 {active} ORDER BY users.id"
        );
        let rows = sqlx::query(&sql)
            .bind(active_at.map(unix_seconds).unwrap_or(0))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let language: String = row.try_get("language")?;
                Ok(Recipient {
                    user_id: UserId(row.try_get("id")?),
                    telegram_id: TelegramId(row.try_get("telegram_id")?),
                    language: Language::from_code(&language)
                        .ok_or(StoreError::Corrupt("users.language"))?,
                })
            })
            .collect()
    }

    /// Deletes the bot's records about a person: conversation state, support tickets and
    /// reminders. [`Store::erase_user`] removes them too (foreign keys cascade); this does it
    /// explicitly, so erasure never depends on a pragma.
    pub async fn erase_bot_data(&self, user: UserId) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for sql in [
            "DELETE FROM support_messages WHERE ticket_id IN \
             (SELECT id FROM support_tickets WHERE user_id = $1)",
            "DELETE FROM support_tickets WHERE user_id = $1",
            "DELETE FROM bot_reminders WHERE user_id = $1",
            "DELETE FROM bot_chats WHERE user_id = $1",
        ] {
            sqlx::query(sql).bind(user.0).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

enum BotValue<'a> {
    Text(Option<&'a str>),
    Int(Option<i64>),
}
