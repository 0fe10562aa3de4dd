//! Counts for `milly privacy purge --dry-run`: how many records each retention rule would remove
//! at a cutoff, without removing anything. Each matches the condition of the method that purges.

use domain::unix_seconds;
use sqlx::Row as _;
use time::OffsetDateTime;

use crate::{Store, StoreError};

impl Store {
    /// How many tickets [`Store::purge_support_tickets`] would erase at `cutoff`.
    pub async fn count_support_tickets_before(
        &self,
        cutoff: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        self.count(
            "SELECT COUNT(*) AS n FROM support_tickets WHERE updated_at < $1",
            cutoff,
        )
        .await
    }

    /// How many update ids [`Store::prune_updates`] would forget at `older_than`.
    pub async fn count_updates_before(
        &self,
        older_than: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        self.count(
            "SELECT COUNT(*) AS n FROM bot_updates WHERE received_at < $1",
            older_than,
        )
        .await
    }

    /// How many revoked ids [`Store::prune_access_tombstones`] would forget at `older_than`
    /// (everything up to the newest revision recorded before it).
    pub async fn count_access_tombstones_before(
        &self,
        older_than: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        self.count(
            "SELECT COUNT(*) AS n FROM access_tombstones WHERE revision <= \
             (SELECT COALESCE(MAX(revision), -1) FROM access_tombstones WHERE removed_at < $1)",
            older_than,
        )
        .await
    }

    /// How many account links [`Store::purge_account_links`] would remove at `now`.
    pub async fn count_expired_account_links(
        &self,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        self.count(
            "SELECT COUNT(*) AS n FROM account_links WHERE expires_at <= $1",
            now,
        )
        .await
    }

    async fn count(&self, sql: &str, at: OffsetDateTime) -> Result<u64, StoreError> {
        let row = sqlx::query(sql)
            .bind(unix_seconds(at))
            .fetch_one(&self.pool)
            .await?;
        let n: i64 = row.try_get("n")?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
