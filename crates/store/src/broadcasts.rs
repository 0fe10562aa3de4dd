//! Broadcast jobs: created with their audience's size, sent by the bot one person at a time in
//! ascending user id. The cursor moves by one conditional update before each message, so a
//! restarted runner resumes after the last person and nobody gets the message twice.

use domain::{
    from_unix_seconds, unix_seconds, BroadcastAudience, BroadcastOutcome, TelegramId, User, UserId,
    TRIAL_PLAN_ID,
};
use sqlx::any::AnyRow;
use sqlx::Row as _;
use time::{Duration, OffsetDateTime};

use crate::users::{user_from_row, USER_COLUMNS};
use crate::{Store, StoreError};

/// A broadcast and how far it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broadcast {
    pub id: i64,
    pub created_at: OffsetDateTime,
    pub admin: TelegramId,
    pub audience: BroadcastAudience,
    pub body: String,
    /// The last person a message went (or was tried) to; 0 before the first.
    pub cursor: UserId,
    /// How many people the audience had when it was started.
    pub recipients: i64,
    /// Delivered messages.
    pub sent: i64,
    /// Messages Telegram refused because the person blocked the bot.
    pub blocked: i64,
    /// Messages that failed otherwise.
    pub failed: i64,
    pub finished_at: Option<OffsetDateTime>,
}

const BROADCAST_COLUMNS: &str = "id, created_at, admin_telegram_id, audience, body, \
     cursor_user_id, recipients, sent, blocked, failed, finished_at, expired_days";

fn broadcast_from_row(row: &AnyRow) -> Result<Broadcast, StoreError> {
    let audience: String = row.try_get("audience")?;
    let finished: Option<i64> = row.try_get("finished_at")?;
    let days: Option<i64> = row.try_get("expired_days")?;
    Ok(Broadcast {
        id: row.try_get("id")?,
        created_at: from_unix_seconds(row.try_get("created_at")?),
        admin: TelegramId(row.try_get("admin_telegram_id")?),
        audience: BroadcastAudience::from_parts(&audience, days)
            .ok_or(StoreError::Corrupt("broadcasts.audience"))?,
        body: row.try_get("body")?,
        cursor: UserId(row.try_get("cursor_user_id")?),
        recipients: row.try_get("recipients")?,
        sent: row.try_get("sent")?,
        blocked: row.try_get("blocked")?,
        failed: row.try_get("failed")?,
        finished_at: finished.map(from_unix_seconds),
    })
}

/// No successful payment by this person.
const NEVER_PAID: &str = "NOT EXISTS (SELECT 1 FROM payments p WHERE p.user_id = users.id \
     AND p.status = 'succeeded')";

/// The condition on `users` (joined with their subscription as `s`) for an audience; `$1` is
/// the instant, `$2` the start of an "expired in the last N days" window, `$3` the trial's
/// plan id. Reachable people only: not blocked by the operator, not blocking the bot.
fn audience_filter(audience: BroadcastAudience) -> String {
    match audience {
        BroadcastAudience::All => "TRUE".into(),
        BroadcastAudience::Active => "s.ends_at > $1".into(),
        BroadcastAudience::Expired => "s.ends_at <= $1".into(),
        BroadcastAudience::ExpiredWithin(_) => "s.ends_at <= $1 AND s.ends_at > $2".into(),
        // A paid plan replaces the trial's plan id; the payment check also catches a payment
        // whose days were granted on top of a running trial.
        BroadcastAudience::TrialOnly => format!("s.plan = $3 AND {NEVER_PAID}"),
        BroadcastAudience::NeverPaid => NEVER_PAID.into(),
        // Nobody in `users`: a preview goes to its admin's chat.
        BroadcastAudience::Preview => "FALSE".into(),
    }
}

fn audience_sql(audience: BroadcastAudience, select: &str, tail: &str) -> String {
    format!(
        "SELECT {select} FROM users LEFT JOIN subscriptions s ON s.user_id = users.id \
         WHERE users.blocked = 0 AND users.bot_unreachable = 0 AND ({}) \
         AND ($1 = $1) AND ($2 = $2) AND ($3 = $3) {tail}",
        audience_filter(audience)
    )
}

/// Binds `$1`..`$3` of [`audience_sql`].
fn bind_audience<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    audience: BroadcastAudience,
    now: OffsetDateTime,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let days = audience.days().map_or(0, |d| i64::from(d.get()));
    query
        .bind(unix_seconds(now))
        .bind(unix_seconds(now - Duration::days(days)))
        .bind(TRIAL_PLAN_ID)
}

impl Store {
    /// How many people `audience` reaches at `now`.
    pub async fn count_audience(
        &self,
        audience: BroadcastAudience,
        now: OffsetDateTime,
    ) -> Result<i64, StoreError> {
        let sql = audience_sql(audience, "COUNT(*) AS n", "");
        let row = bind_audience(sqlx::query(&sql), audience, now)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("n")?)
    }

    /// The first person of `audience` after user `after`, in ascending id.
    pub async fn next_in_audience(
        &self,
        audience: BroadcastAudience,
        after: UserId,
        now: OffsetDateTime,
    ) -> Result<Option<User>, StoreError> {
        let sql = audience_sql(
            audience,
            USER_COLUMNS,
            "AND users.id > $4 ORDER BY users.id LIMIT 1",
        );
        let row = bind_audience(sqlx::query(&sql), audience, now)
            .bind(after.0)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Records a new broadcast, to be sent from the start.
    pub async fn create_broadcast(
        &self,
        at: OffsetDateTime,
        admin: TelegramId,
        audience: BroadcastAudience,
        body: &str,
        recipients: i64,
    ) -> Result<Broadcast, StoreError> {
        let row = sqlx::query(
            "INSERT INTO broadcasts (created_at, admin_telegram_id, audience, body, \
             cursor_user_id, recipients, sent, blocked, failed, finished_at, expired_days) \
             VALUES ($1, $2, $3, $4, 0, $5, 0, 0, 0, NULL, $6) RETURNING id",
        )
        .bind(unix_seconds(at))
        .bind(admin.0)
        .bind(audience.code())
        .bind(body)
        .bind(recipients)
        .bind(audience.days().map(|d| i64::from(d.get())))
        .fetch_one(&self.pool)
        .await?;
        let id: i64 = row.try_get("id")?;
        self.broadcast(id)
            .await?
            .ok_or(StoreError::Corrupt("broadcasts.id"))
    }

    pub async fn broadcast(&self, id: i64) -> Result<Option<Broadcast>, StoreError> {
        let sql = format!("SELECT {BROADCAST_COLUMNS} FROM broadcasts WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(broadcast_from_row).transpose()
    }

    /// The newest `limit` broadcasts, newest first.
    pub async fn recent_broadcasts(&self, limit: u32) -> Result<Vec<Broadcast>, StoreError> {
        let sql = format!("SELECT {BROADCAST_COLUMNS} FROM broadcasts ORDER BY id DESC LIMIT $1");
        let rows = sqlx::query(&sql)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(broadcast_from_row).collect()
    }

    /// The oldest broadcast not finished yet.
    pub async fn next_unfinished_broadcast(&self) -> Result<Option<Broadcast>, StoreError> {
        let sql = format!(
            "SELECT {BROADCAST_COLUMNS} FROM broadcasts WHERE finished_at IS NULL \
             ORDER BY id LIMIT 1"
        );
        let row = sqlx::query(&sql).fetch_optional(&self.pool).await?;
        row.as_ref().map(broadcast_from_row).transpose()
    }

    /// Moves the cursor of broadcast `id` from `from` to `to`; false when it was not at `from`
    /// (someone else moved it), so each person is claimed once.
    pub async fn advance_broadcast(
        &self,
        id: i64,
        from: UserId,
        to: UserId,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE broadcasts SET cursor_user_id = $3 \
             WHERE id = $1 AND cursor_user_id = $2 AND finished_at IS NULL",
        )
        .bind(id)
        .bind(from.0)
        .bind(to.0)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Counts one message of broadcast `id` by what became of it.
    pub async fn count_broadcast_message(
        &self,
        id: i64,
        outcome: BroadcastOutcome,
    ) -> Result<(), StoreError> {
        let sql = match outcome {
            BroadcastOutcome::Delivered => "UPDATE broadcasts SET sent = sent + 1 WHERE id = $1",
            BroadcastOutcome::BlockedBot => {
                "UPDATE broadcasts SET blocked = blocked + 1 WHERE id = $1"
            }
            BroadcastOutcome::Failed => "UPDATE broadcasts SET failed = failed + 1 WHERE id = $1",
        };
        sqlx::query(sql).bind(id).execute(&self.pool).await?;
        Ok(())
    }

    /// Marks broadcast `id` finished at `at`; false when it already was.
    pub async fn finish_broadcast(&self, id: i64, at: OffsetDateTime) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE broadcasts SET finished_at = $2 WHERE id = $1 AND finished_at IS NULL",
        )
        .bind(id)
        .bind(unix_seconds(at))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// How many broadcasts [`Store::purge_broadcasts`] would delete.
    pub async fn count_broadcasts_before(&self, cutoff: OffsetDateTime) -> Result<u64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM broadcasts WHERE finished_at < $1")
            .bind(unix_seconds(cutoff))
            .fetch_one(&self.pool)
            .await?;
        let n: i64 = row.try_get("n")?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Deletes broadcasts that finished before `cutoff`; returns how many.
    pub async fn purge_broadcasts(&self, cutoff: OffsetDateTime) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM broadcasts WHERE finished_at < $1")
            .bind(unix_seconds(cutoff))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
