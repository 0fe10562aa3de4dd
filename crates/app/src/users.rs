//! Operator-side user management: add, show, extend, block, delete, export.

use domain::{
    has_access, AccessDenied, Days, NewUser, PlanId, Subscription, TelegramId, User, UserId,
    UserRef,
};
use store::UserSummary;
use time::OffsetDateTime;

use crate::{App, AppError, Links};

/// Plan id recorded on days an operator grants by hand.
pub const MANUAL_PLAN_ID: &str = "manual";

/// Everything the operator sees about one user.
#[derive(Debug, Clone)]
pub struct UserView {
    pub user: User,
    pub subscription: Option<Subscription>,
    pub access: Result<(), AccessDenied>,
    pub links: Links,
}

impl App {
    /// Creates a user from a Telegram id (the operator's way; the bot records consent itself),
    /// optionally with `days` of access.
    pub async fn add_user(
        &self,
        telegram_id: TelegramId,
        days: Option<Days>,
        now: OffsetDateTime,
    ) -> Result<UserView, AppError> {
        if self.store().user_by_telegram(telegram_id).await?.is_some() {
            return Err(AppError::AlreadyExists);
        }
        if let Some(days) = days {
            // Checked before anything is written, so a bad count leaves no half-made user.
            Subscription::start(UserId(0), PlanId(MANUAL_PLAN_ID.into()), days, now)?;
        }
        let user = self
            .store()
            .create_user(&NewUser::from_telegram_id(telegram_id), now)
            .await?;
        if let Some(days) = days {
            self.store()
                .grant_days(user.id, PlanId(MANUAL_PLAN_ID.into()), days, now)
                .await?;
        }
        self.view(user.id, now).await
    }

    pub async fn resolve(&self, who: UserRef) -> Result<User, AppError> {
        self.store()
            .find_user(who)
            .await?
            .ok_or(AppError::UserNotFound)
    }

    /// The person with this internal id.
    pub async fn user(&self, id: UserId) -> Result<User, AppError> {
        self.store().user(id).await?.ok_or(AppError::UserNotFound)
    }

    /// A page of users in creation order, with their subscriptions.
    pub async fn list_users(&self, offset: u32, limit: u32) -> Result<Vec<UserSummary>, AppError> {
        Ok(self.store().list_users(offset, limit).await?)
    }

    pub async fn view(&self, id: UserId, now: OffsetDateTime) -> Result<UserView, AppError> {
        let user = self.store().user(id).await?.ok_or(AppError::UserNotFound)?;
        let subscription = self.store().subscription(id).await?;
        let creds = self
            .store()
            .credentials(id)
            .await?
            .ok_or(AppError::UserNotFound)?;
        let links = self.links(&creds.vless_uuid, &creds.sub_token).await?;
        let access = has_access(&user, subscription.as_ref(), now);
        Ok(UserView {
            user,
            subscription,
            access,
            links,
        })
    }

    pub async fn show(&self, who: UserRef, now: OffsetDateTime) -> Result<UserView, AppError> {
        let user = self.resolve(who).await?;
        self.view(user.id, now).await
    }

    pub async fn extend(
        &self,
        who: UserRef,
        days: Days,
        now: OffsetDateTime,
    ) -> Result<UserView, AppError> {
        let user = self.resolve(who).await?;
        self.store()
            .grant_days(user.id, PlanId(MANUAL_PLAN_ID.into()), days, now)
            .await?;
        self.view(user.id, now).await
    }

    pub async fn set_blocked(
        &self,
        who: UserRef,
        blocked: bool,
        now: OffsetDateTime,
    ) -> Result<UserView, AppError> {
        let user = self.resolve(who).await?;
        self.store().set_blocked(user.id, blocked).await?;
        self.view(user.id, now).await
    }

    /// Erases the person: access ends on every node at the next feed tick, personal data is
    /// gone, payment records stay without a link to them.
    pub async fn delete(&self, who: UserRef) -> Result<(), AppError> {
        let user = self.resolve(who).await?;
        self.erase_person(user.id).await
    }

    /// The complete JSON document of what is stored about a person.
    pub async fn export(&self, who: UserRef) -> Result<serde_json::Value, AppError> {
        let user = self.resolve(who).await?;
        self.export_everything(user.id).await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::AppSettings;

    use store::testing::TestDb;

    use super::*;

    #[tokio::test]
    async fn adding_a_telegram_id_twice_is_refused_without_naming_the_id() {
        let db = TestDb::sqlite().await;
        let app = App::new(db.store.clone(), AppSettings::default());
        let now = OffsetDateTime::now_utc();
        let id = TelegramId(987_654_321);
        app.add_user(id, None, now).await.unwrap();
        let err = app.add_user(id, Some(Days(3)), now).await.unwrap_err();
        assert!(matches!(err, AppError::AlreadyExists), "{err:?}");
        assert!(!err.to_string().contains("987654321"), "{err}");
        assert!(!format!("{err:?}").contains("987654321"), "{err:?}");
    }

    #[tokio::test]
    async fn a_page_of_users_lists_them_in_creation_order_with_their_subscriptions() {
        let db = TestDb::sqlite().await;
        let app = App::new(db.store.clone(), AppSettings::default());
        let now = OffsetDateTime::now_utc();
        let first = app
            .add_user(TelegramId(1), Some(Days(5)), now)
            .await
            .unwrap();
        let second = app.add_user(TelegramId(2), None, now).await.unwrap();
        let page = app.list_users(0, 10).await.unwrap();
        let ids: Vec<UserId> = page.iter().map(|row| row.user.id).collect();
        assert_eq!(ids, vec![first.user.id, second.user.id]);
        assert!(page[0].subscription.is_some() && page[1].subscription.is_none());
        assert_eq!(
            app.user(second.user.id).await.unwrap().telegram_id,
            TelegramId(2)
        );
        assert!(matches!(
            app.user(UserId(999)).await,
            Err(AppError::UserNotFound)
        ));
    }
}
