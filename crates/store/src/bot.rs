//! Bot bookkeeping: updates already handled, reminders already sent, conversation state and
//! whether a person can be messaged — so a restart loses nothing and nothing happens twice.

use domain::{unix_seconds, Subscription, User, UserId};
use sqlx::Row as _;
use time::OffsetDateTime;

use crate::error::missing_user;
use crate::subscriptions::subscription_from_row;
use crate::users::{expect_one, user_from_row, USER_COLUMNS};
use crate::{Store, StoreError};

impl Store {
    /// `true` the first time `update_id` is claimed, `false` for a repeat delivery. Claim before
    /// acting: an update is acted on at most once.
    pub async fn claim_update(
        &self,
        update_id: i64,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let claimed = sqlx::query(
            "INSERT INTO bot_updates (update_id, received_at) VALUES ($1, $2) \
             ON CONFLICT (update_id) DO NOTHING",
        )
        .bind(update_id)
        .bind(unix_seconds(now))
        .execute(&self.pool)
        .await?;
        Ok(claimed.rows_affected() == 1)
    }

    /// Forgets update ids received before `older_than` (Telegram redelivers for at most a day).
    pub async fn prune_updates(&self, older_than: OffsetDateTime) -> Result<u64, StoreError> {
        let pruned = sqlx::query("DELETE FROM bot_updates WHERE received_at < $1")
            .bind(unix_seconds(older_than))
            .execute(&self.pool)
            .await?;
        Ok(pruned.rows_affected())
    }

    /// Where the person is in a conversation with the bot, as the bot encoded it.
    pub async fn conversation(&self, user: UserId) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT state FROM conversations WHERE user_id = $1")
            .bind(user.0)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| Ok(row.try_get("state")?)).transpose()
    }

    /// Saves the conversation state; `None` ends the conversation.
    pub async fn set_conversation(
        &self,
        user: UserId,
        state: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let Some(state) = state else {
            sqlx::query("DELETE FROM conversations WHERE user_id = $1")
                .bind(user.0)
                .execute(&self.pool)
                .await?;
            return Ok(());
        };
        sqlx::query(
            "INSERT INTO conversations (user_id, state, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO UPDATE SET state = excluded.state, \
             updated_at = excluded.updated_at",
        )
        .bind(user.0)
        .bind(state)
        .bind(unix_seconds(now))
        .execute(&self.pool)
        .await
        .map_err(missing_user)?;
        Ok(())
    }

    /// `true` if this reminder (`kind`, e.g. "3d", for the subscription ending at `ends_at`) was
    /// not sent before and is now recorded as sent. Extending the subscription moves `ends_at`,
    /// which makes its reminders due again.
    pub async fn claim_reminder(
        &self,
        user: UserId,
        kind: &str,
        ends_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let claimed = sqlx::query(
            "INSERT INTO reminders_sent (user_id, kind, ends_at, sent_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, kind, ends_at) DO NOTHING",
        )
        .bind(user.0)
        .bind(kind)
        .bind(unix_seconds(ends_at))
        .bind(unix_seconds(now))
        .execute(&self.pool)
        .await
        .map_err(missing_user)?;
        Ok(claimed.rows_affected() == 1)
    }

    /// People who may be messaged (not blocked, have not blocked the bot) whose subscription
    /// ends in `[from, to)`, soonest first.
    pub async fn subscriptions_ending(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<(User, Subscription)>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, subscriptions.user_id AS sub_user_id, subscriptions.plan, \
             subscriptions.activated_at, subscriptions.ends_at FROM users \
             JOIN subscriptions ON subscriptions.user_id = users.id \
             WHERE users.blocked = 0 AND users.bot_unreachable = 0 \
             AND subscriptions.ends_at >= $1 AND subscriptions.ends_at < $2 \
             ORDER BY subscriptions.ends_at, users.id"
        );
        let rows = sqlx::query(&sql)
            .bind(unix_seconds(from))
            .bind(unix_seconds(to))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    user_from_row(row)?,
                    subscription_from_row(row, "sub_user_id")?,
                ))
            })
            .collect()
    }

    /// Marks whether Telegram refuses messages to the person (they blocked the bot). Set it
    /// back to `false` when they write again.
    pub async fn set_bot_unreachable(
        &self,
        user: UserId,
        unreachable: bool,
    ) -> Result<(), StoreError> {
        let changed = sqlx::query("UPDATE users SET bot_unreachable = $1 WHERE id = $2")
            .bind(i16::from(unreachable))
            .bind(user.0)
            .execute(&self.pool)
            .await?;
        expect_one(changed.rows_affected())
    }

    /// Whether Telegram refuses messages to the person; `None` if there is no such user.
    pub async fn bot_unreachable(&self, user: UserId) -> Result<Option<bool>, StoreError> {
        let row = sqlx::query("SELECT bot_unreachable FROM users WHERE id = $1")
            .bind(user.0)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| Ok(row.try_get::<i64, _>("bot_unreachable")? != 0))
            .transpose()
    }

    /// Whom a broadcast reaches: everyone who may be messaged, or only those whose subscription
    /// has not ended at `now`. In id order.
    pub async fn broadcast_targets(
        &self,
        active_only: bool,
        now: OffsetDateTime,
    ) -> Result<Vec<User>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users \
             LEFT JOIN subscriptions ON subscriptions.user_id = users.id \
             WHERE users.blocked = 0 AND users.bot_unreachable = 0 \
             AND ($1 = 0 OR subscriptions.ends_at > $2) ORDER BY users.id"
        );
        let rows = sqlx::query(&sql)
            .bind(i64::from(active_only))
            .bind(unix_seconds(now))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(user_from_row).collect()
    }
}
