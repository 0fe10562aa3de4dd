//! Giving back a claimed Telegram update id when handling it failed for a reason that may pass
//! (the database was briefly unreachable), so the bot's next try handles it instead of skipping
//! it as already done. Claiming is `Store::claim_update`.

use crate::{Store, StoreError};

impl Store {
    /// Forgets the claim on `update_id`; a later `claim_update` of it succeeds again.
    pub async fn release_update(&self, update_id: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM bot_updates WHERE update_id = $1")
            .bind(update_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

#[cfg(all(test, feature = "testing"))]
mod tests {
    use crate::testing::TestDb;

    #[tokio::test]
    async fn a_released_update_can_be_claimed_again() {
        let db = TestDb::sqlite().await;
        let now = time::OffsetDateTime::now_utc();
        assert!(db.store.claim_update(7, now).await.unwrap());
        assert!(!db.store.claim_update(7, now).await.unwrap());
        db.store.release_update(7).await.unwrap();
        assert!(db.store.claim_update(7, now).await.unwrap());
    }
}
