//! Account links: the short-lived keys to a person's data page on the website, kept only as
//! hashes. Issuing one revokes the person's older ones; expired ones open nothing and are
//! purged; they go with the person at erasure (explicitly and by `ON DELETE CASCADE`).

use domain::{from_unix_seconds, unix_seconds, AccountLinkHash, User, UserId};
use sqlx::Row as _;
use time::OffsetDateTime;

use crate::users::{user_from_row, USER_COLUMNS};
use crate::{Store, StoreError};

impl Store {
    /// Records a new link for `user`, valid until `expires_at`, and revokes every older link of
    /// theirs in the same transaction; expired links of anyone are dropped on the way.
    pub async fn issue_account_link(
        &self,
        user: UserId,
        hash: &AccountLinkHash,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let exists = sqlx::query("SELECT id FROM users WHERE id = $1")
            .bind(user.0)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::UserNotFound);
        }
        sqlx::query("DELETE FROM account_links WHERE user_id = $1 OR expires_at <= $2")
            .bind(user.0)
            .bind(unix_seconds(now))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO account_links (token_hash, user_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(hash.as_str())
        .bind(user.0)
        .bind(unix_seconds(now))
        .bind(unix_seconds(expires_at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The person a link opens at `now`: `None` for an unknown, revoked or expired link. An
    /// equality lookup on the primary key, so its time says nothing about near misses.
    pub async fn account_link_owner(
        &self,
        hash: &AccountLinkHash,
        now: OffsetDateTime,
    ) -> Result<Option<User>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users \
             JOIN account_links ON account_links.user_id = users.id \
             WHERE account_links.token_hash = $1 AND account_links.expires_at > $2"
        );
        let row = sqlx::query(&sql)
            .bind(hash.as_str())
            .bind(unix_seconds(now))
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// When each stored link of `user` was issued and when it expires (for the export; the
    /// hashes stay inside), oldest first.
    pub(crate) async fn account_link_times(
        &self,
        user: UserId,
    ) -> Result<Vec<(OffsetDateTime, OffsetDateTime)>, StoreError> {
        let rows = sqlx::query(
            "SELECT created_at, expires_at FROM account_links WHERE user_id = $1 \
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

    /// Revokes every link of `user`; returns how many there were.
    pub async fn revoke_account_links(&self, user: UserId) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM account_links WHERE user_id = $1")
            .bind(user.0)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Deletes every link that expired at or before `now`; returns how many.
    pub async fn purge_account_links(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM account_links WHERE expires_at <= $1")
            .bind(unix_seconds(now))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
