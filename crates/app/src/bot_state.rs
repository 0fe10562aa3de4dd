//! The bot's bookkeeping, kept by the application so a restart loses nothing and nothing happens
//! twice: which Telegram updates were handled already, and what a person's next text message is
//! for.

use std::collections::BTreeSet;

use domain::UserId;
use time::OffsetDateTime;

use crate::{App, AppError};

/// How long handled update ids are remembered: Telegram redelivers for at most a day.
pub const UPDATE_MEMORY: time::Duration = time::Duration::days(2);

/// What the bot waits for in the person's next text message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Awaiting {
    /// An email address for receipts and contact.
    Email,
    /// A question for support.
    Support,
    /// A promo code.
    Promo,
}

impl Awaiting {
    /// The stored form; it outlives releases, so these strings never change.
    fn code(self) -> &'static str {
        match self {
            Awaiting::Email => "email",
            Awaiting::Support => "support",
            Awaiting::Promo => "promo",
        }
    }

    /// An unknown stored state (from an older release, say) waits for nothing.
    fn from_code(code: &str) -> Option<Self> {
        match code {
            "email" => Some(Awaiting::Email),
            "support" => Some(Awaiting::Support),
            "promo" => Some(Awaiting::Promo),
            _ => None,
        }
    }
}

impl App {
    /// What the person's next text message is for; `None` outside a conversation.
    pub async fn awaiting(&self, user: UserId) -> Result<Option<Awaiting>, AppError> {
        let state = self.store().conversation(user).await?;
        Ok(state.as_deref().and_then(Awaiting::from_code))
    }

    /// Starts waiting for `what` in the person's next text message.
    pub async fn start_awaiting(
        &self,
        user: UserId,
        what: Awaiting,
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        Ok(self
            .store()
            .set_conversation(user, Some(what.code()), now)
            .await?)
    }

    /// Ends whatever the bot was waiting for.
    pub async fn end_conversation(
        &self,
        user: UserId,
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        Ok(self.store().set_conversation(user, None, now).await?)
    }

    /// `true` the first time the update `update_id` is claimed, `false` for a repeat delivery.
    /// Claim before acting: an update is acted on at most once.
    pub async fn claim_update(
        &self,
        update_id: i64,
        now: OffsetDateTime,
    ) -> Result<bool, AppError> {
        Ok(self.store().claim_update(update_id, now).await?)
    }

    /// Claims every id in `update_ids` (any number of them); returns those claimed now for the
    /// first time.
    pub async fn claim_updates(
        &self,
        update_ids: &[i64],
        now: OffsetDateTime,
    ) -> Result<BTreeSet<i64>, AppError> {
        let mut first = BTreeSet::new();
        for chunk in update_ids.chunks(store::MAX_CLAIM_BATCH) {
            first.extend(self.store().claim_updates(chunk, now).await?);
        }
        Ok(first)
    }

    /// Forgets update ids older than [`UPDATE_MEMORY`]; returns how many.
    pub async fn forget_old_updates(&self, now: OffsetDateTime) -> Result<u64, AppError> {
        Ok(self.store().prune_updates(now - UPDATE_MEMORY).await?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::AppSettings;

    use store::testing::TestDb;

    use super::*;

    fn app(db: &TestDb) -> App {
        App::new(db.store.clone(), AppSettings::default())
    }

    #[tokio::test]
    async fn a_conversation_remembers_what_it_waits_for_until_it_ends() {
        let db = TestDb::sqlite().await;
        let app = app(&db);
        let now = OffsetDateTime::now_utc();
        let user = db.user(7, now).await;
        assert_eq!(app.awaiting(user.id).await.unwrap(), None);
        for what in [Awaiting::Email, Awaiting::Support, Awaiting::Promo] {
            app.start_awaiting(user.id, what, now).await.unwrap();
            assert_eq!(app.awaiting(user.id).await.unwrap(), Some(what));
        }
        app.end_conversation(user.id, now).await.unwrap();
        assert_eq!(app.awaiting(user.id).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_state_the_bot_no_longer_knows_waits_for_nothing() {
        let db = TestDb::sqlite().await;
        let now = OffsetDateTime::now_utc();
        let user = db.user(8, now).await;
        db.store
            .set_conversation(user.id, Some("retired-state"), now)
            .await
            .unwrap();
        assert_eq!(app(&db).awaiting(user.id).await.unwrap(), None);
    }

    #[tokio::test]
    async fn claims_of_more_updates_than_one_batch_take_each_id_once() {
        let db = TestDb::sqlite().await;
        let app = app(&db);
        let now = OffsetDateTime::now_utc();
        let many = i64::try_from(store::MAX_CLAIM_BATCH).unwrap() * 2 + 3;
        let ids: Vec<i64> = (0..many).collect();
        assert_eq!(app.claim_updates(&ids, now).await.unwrap().len(), ids.len());
        assert!(app.claim_updates(&ids, now).await.unwrap().is_empty());
        assert!(!app.claim_update(0, now).await.unwrap());
    }

    #[tokio::test]
    async fn handled_updates_are_forgotten_after_two_days() {
        let db = TestDb::sqlite().await;
        let app = app(&db);
        let now = OffsetDateTime::now_utc();
        assert!(app
            .claim_update(1, now - UPDATE_MEMORY - time::Duration::minutes(1))
            .await
            .unwrap());
        assert!(app
            .claim_update(2, now - time::Duration::days(1))
            .await
            .unwrap());
        assert_eq!(app.forget_old_updates(now).await.unwrap(), 1);
        assert!(app.claim_update(1, now).await.unwrap());
        assert!(!app.claim_update(2, now).await.unwrap());
    }
}
