//! Website sessions of people signed in with Telegram, kept as hashes. Each signed login opens
//! one session only (`login_digest` is unique); sign-out ends a session by moving its end to
//! that moment; ended sessions are purged; they go with the person at erasure (explicitly and by
//! `ON DELETE CASCADE`).

use domain::{from_unix_seconds, unix_seconds, UserId, WebSessionHash};
use sqlx::Row as _;
use time::OffsetDateTime;

use crate::error::missing_user_or;
use crate::{Store, StoreError};

impl Store {
    /// Records a session of `user` until `expires_at`; `false` (and nothing stored) when a
    /// session was already opened with the same login signature (a replay).
    pub async fn create_web_session(
        &self,
        hash: &WebSessionHash,
        user: UserId,
        login_digest: &str,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO web_sessions (token_hash, user_id, login_digest, created_at, \
             expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(hash.as_str())
        .bind(user.0)
        .bind(login_digest)
        .bind(unix_seconds(now))
        .bind(unix_seconds(expires_at))
        .execute(&self.pool)
        .await;
        match done {
            Ok(_) => Ok(true),
            Err(err) if StoreError::is_unique_violation(&err) => Ok(false),
            Err(err) => Err(missing_user_or(err, StoreError::from)),
        }
    }

    /// The person a live session belongs to at `now`; `None` when it is unknown or ended.
    pub async fn web_session_owner(
        &self,
        hash: &WebSessionHash,
        now: OffsetDateTime,
    ) -> Result<Option<UserId>, StoreError> {
        let row = sqlx::query(
            "SELECT user_id FROM web_sessions WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(hash.as_str())
        .bind(unix_seconds(now))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok(UserId(r.try_get("user_id")?))).transpose()
    }

    /// Ends a session at `now` (sign-out); the row stays until the retention job, so its login
    /// signature cannot open another. Returns whether a live session ended.
    pub async fn end_web_session(
        &self,
        hash: &WebSessionHash,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE web_sessions SET expires_at = $2 WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(hash.as_str())
        .bind(unix_seconds(now))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// When each stored session of `user` began and ends (for the export; hashes stay inside),
    /// oldest first.
    pub(crate) async fn web_session_times(
        &self,
        user: UserId,
    ) -> Result<Vec<(OffsetDateTime, OffsetDateTime)>, StoreError> {
        let rows = sqlx::query(
            "SELECT created_at, expires_at FROM web_sessions WHERE user_id = $1 \
             ORDER BY created_at",
        )
        .bind(user.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let created: i64 = row.try_get("created_at")?;
                let expires: i64 = row.try_get("expires_at")?;
                Ok((from_unix_seconds(created), from_unix_seconds(expires)))
            })
            .collect()
    }

    /// Deletes every session that ended at or before `cutoff`; returns how many.
    pub async fn purge_web_sessions(&self, cutoff: OffsetDateTime) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM web_sessions WHERE expires_at <= $1")
            .bind(unix_seconds(cutoff))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// How many sessions [`Store::purge_web_sessions`] would delete.
    pub async fn count_ended_web_sessions(
        &self,
        cutoff: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM web_sessions WHERE expires_at <= $1")
            .bind(unix_seconds(cutoff))
            .fetch_one(&self.pool)
            .await?;
        let n: i64 = row.try_get("n")?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
