//! Who is writing to the bot: a stranger (who sees the consent screen), a person the operator
//! blocked (who gets nothing), or a person with an account.

use domain::{TelegramId, User};
use time::OffsetDateTime;

use crate::{App, AppError, TelegramProfile};

/// What the bot knows about whoever sent an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visitor {
    /// No account: nothing about them is stored until they agree.
    Stranger,
    /// The operator blocked them: they get no answer at all.
    Blocked,
    /// A person with an account, names refreshed from this update.
    Person(User),
}

impl App {
    /// The account behind a Telegram id, blocked or not, without noting anything.
    pub async fn account_of(&self, telegram_id: TelegramId) -> Result<Option<User>, AppError> {
        Ok(self.store().user_by_telegram(telegram_id).await?)
    }

    /// Recognises whoever sent an update. For a person with an account this keeps their names
    /// in step with Telegram, notes that they used the service, and that they are reachable
    /// again if they had blocked the bot.
    pub async fn recognise(
        &self,
        profile: &TelegramProfile,
        now: OffsetDateTime,
    ) -> Result<Visitor, AppError> {
        let Some(user) = self.account_of(profile.telegram_id).await? else {
            return Ok(Visitor::Stranger);
        };
        if user.blocked {
            return Ok(Visitor::Blocked);
        }
        self.refresh_profile(&user, profile, now).await?;
        self.note_bot_reachable(user.id).await?;
        Ok(Visitor::Person(user))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::AppSettings;

    use domain::Language;
    use store::testing::TestDb;

    use super::*;

    fn profile(id: i64, first_name: &str) -> TelegramProfile {
        TelegramProfile {
            telegram_id: TelegramId(id),
            first_name: first_name.into(),
            last_name: None,
            username: None,
        }
    }

    #[tokio::test]
    async fn a_stranger_stays_unrecorded_and_a_person_is_refreshed_and_reachable_again() {
        let db = TestDb::sqlite().await;
        let app = App::new(db.store.clone(), AppSettings::default());
        let now = OffsetDateTime::now_utc();
        assert_eq!(
            app.recognise(&profile(21, "Ann"), now).await.unwrap(),
            Visitor::Stranger
        );
        assert!(app.account_of(TelegramId(21)).await.unwrap().is_none());
        let user = app
            .sign_up(&profile(21, "Ann"), Language::En, now)
            .await
            .unwrap();
        app.note_bot_blocked(user.id).await.unwrap();
        let Visitor::Person(seen) = app.recognise(&profile(21, "Anna"), now).await.unwrap() else {
            panic!("a person with an account is recognised");
        };
        assert_eq!(seen.id, user.id);
        let stored = app.account_of(TelegramId(21)).await.unwrap().unwrap();
        assert_eq!(stored.first_name, "Anna");
        assert!(app.reachable_person(user.id).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn a_person_the_operator_blocked_is_recognised_as_blocked_and_left_as_is() {
        let db = TestDb::sqlite().await;
        let app = App::new(db.store.clone(), AppSettings::default());
        let now = OffsetDateTime::now_utc();
        let user = app
            .sign_up(&profile(22, "Bob"), Language::En, now)
            .await
            .unwrap();
        db.store.set_blocked(user.id, true).await.unwrap();
        assert_eq!(
            app.recognise(&profile(22, "Robert"), now).await.unwrap(),
            Visitor::Blocked
        );
        let stored = app.account_of(TelegramId(22)).await.unwrap().unwrap();
        assert_eq!(stored.first_name, "Bob");
    }
}
