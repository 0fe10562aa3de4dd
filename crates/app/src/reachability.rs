//! Whom the bot may message: not people the operator blocked, and not people who blocked the
//! bot (Telegram refuses them) until they write again.

use domain::{User, UserId};
use time::OffsetDateTime;

use crate::{App, AppError};

/// Who a broadcast is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Everyone the bot may message.
    Everyone,
    /// Only those whose subscription has not ended.
    ActiveSubscribers,
}

impl App {
    /// The person, if the bot may message them now; `None` if they are gone, blocked by the
    /// operator, or have blocked the bot.
    pub async fn reachable_person(&self, user: UserId) -> Result<Option<User>, AppError> {
        let Some(person) = self.store().user(user).await? else {
            return Ok(None);
        };
        if person.blocked || self.store().bot_unreachable(user).await? == Some(true) {
            return Ok(None);
        }
        Ok(Some(person))
    }

    /// Telegram said the person blocked the bot: nothing is sent to them again until they
    /// write.
    pub async fn note_bot_blocked(&self, user: UserId) -> Result<(), AppError> {
        Ok(self.store().set_bot_unreachable(user, true).await?)
    }

    /// The person wrote: if they had blocked the bot, they have unblocked it.
    pub(crate) async fn note_bot_reachable(&self, user: UserId) -> Result<(), AppError> {
        if self.store().bot_unreachable(user).await? == Some(true) {
            self.store().set_bot_unreachable(user, false).await?;
        }
        Ok(())
    }

    /// Whom a broadcast to `audience` reaches at `now`, in id order.
    pub async fn broadcast_audience(
        &self,
        audience: Audience,
        now: OffsetDateTime,
    ) -> Result<Vec<User>, AppError> {
        let active_only = audience == Audience::ActiveSubscribers;
        Ok(self.store().broadcast_targets(active_only, now).await?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::AppSettings;

    use store::testing::TestDb;

    use super::*;

    #[tokio::test]
    async fn a_person_who_blocked_the_bot_is_unreachable_until_they_write() {
        let db = TestDb::sqlite().await;
        let app = App::new(db.store.clone(), AppSettings::default());
        let now = OffsetDateTime::now_utc();
        let user = db.user(11, now).await;
        assert!(app.reachable_person(user.id).await.unwrap().is_some());
        app.note_bot_blocked(user.id).await.unwrap();
        assert!(app.reachable_person(user.id).await.unwrap().is_none());
        assert!(app
            .broadcast_audience(Audience::Everyone, now)
            .await
            .unwrap()
            .is_empty());
        app.note_bot_reachable(user.id).await.unwrap();
        assert!(app.reachable_person(user.id).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn a_person_the_operator_blocked_is_never_reachable() {
        let db = TestDb::sqlite().await;
        let app = App::new(db.store.clone(), AppSettings::default());
        let now = OffsetDateTime::now_utc();
        let user = db.user(12, now).await;
        db.store.set_blocked(user.id, true).await.unwrap();
        assert!(app.reachable_person(user.id).await.unwrap().is_none());
        assert!(app.reachable_person(UserId(999)).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_broadcast_to_active_subscribers_skips_those_without_access() {
        let db = TestDb::sqlite().await;
        let app = App::new(db.store.clone(), AppSettings::default());
        let now = OffsetDateTime::now_utc();
        let idle = db.user(13, now).await;
        let paying = db.user(14, now).await;
        db.grant(paying.id, "m", 30, now).await;
        let everyone = app
            .broadcast_audience(Audience::Everyone, now)
            .await
            .unwrap();
        assert_eq!(
            everyone.iter().map(|u| u.id).collect::<Vec<_>>(),
            vec![idle.id, paying.id]
        );
        let active = app
            .broadcast_audience(Audience::ActiveSubscribers, now)
            .await
            .unwrap();
        assert_eq!(
            active.iter().map(|u| u.id).collect::<Vec<_>>(),
            vec![paying.id]
        );
    }
}
