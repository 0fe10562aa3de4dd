//! Claiming a whole batch of Telegram update ids in one statement, so the bot confirms a
//! batch of a hundred updates with one round trip instead of a hundred (one claim at a time is
//! `Store::claim_update`).

use std::collections::BTreeSet;

use domain::unix_seconds;
use sqlx::Row as _;
use time::OffsetDateTime;

use crate::{Store, StoreError};

/// The most ids claimed in one statement (two parameters each, far below SQLite's limit).
pub const MAX_CLAIM_BATCH: usize = 500;

impl Store {
    /// Claims every id in `update_ids`; returns those claimed now for the first time (the rest
    /// were claimed by an earlier delivery). At most [`MAX_CLAIM_BATCH`] ids per call.
    pub async fn claim_updates(
        &self,
        update_ids: &[i64],
        now: OffsetDateTime,
    ) -> Result<BTreeSet<i64>, StoreError> {
        let ids: BTreeSet<i64> = update_ids.iter().copied().collect();
        if ids.is_empty() {
            return Ok(BTreeSet::new());
        }
        if ids.len() > MAX_CLAIM_BATCH {
            return Err(StoreError::TooManyUpdateIds(MAX_CLAIM_BATCH));
        }
        let values: Vec<String> = (0..ids.len())
            .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
            .collect();
        let sql = format!(
            "INSERT INTO bot_updates (update_id, received_at) VALUES {} \
             ON CONFLICT (update_id) DO NOTHING RETURNING update_id",
            values.join(", ")
        );
        let received_at = unix_seconds(now);
        let mut query = sqlx::query(&sql);
        for id in &ids {
            query = query.bind(*id).bind(received_at);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| row.try_get::<i64, _>("update_id").map_err(StoreError::from))
            .collect()
    }
}

#[cfg(all(test, feature = "testing"))]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::testing::TestDb;

    async fn a_batch_claims_only_what_was_not_claimed_before(db: &TestDb) {
        let now = time::OffsetDateTime::now_utc();
        assert!(db.store.claim_update(2, now).await.unwrap());
        let claimed = db.store.claim_updates(&[1, 2, 3, 3], now).await.unwrap();
        assert_eq!(claimed.into_iter().collect::<Vec<_>>(), vec![1, 3]);
        assert!(!db.store.claim_update(3, now).await.unwrap());
        assert!(db
            .store
            .claim_updates(&[1, 2, 3], now)
            .await
            .unwrap()
            .is_empty());
        assert!(db.store.claim_updates(&[], now).await.unwrap().is_empty());
    }

    async fn a_batch_over_the_bound_is_refused_whole(db: &TestDb) {
        let now = time::OffsetDateTime::now_utc();
        let ids: Vec<i64> = (0..=i64::try_from(super::MAX_CLAIM_BATCH).unwrap()).collect();
        assert!(db.store.claim_updates(&ids, now).await.is_err());
        assert!(
            db.store.claim_update(0, now).await.unwrap(),
            "nothing was claimed"
        );
    }

    crate::backend_tests!(
        a_batch_claims_only_what_was_not_claimed_before,
        a_batch_over_the_bound_is_refused_whole
    );
}
