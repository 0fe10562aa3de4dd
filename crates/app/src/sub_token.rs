//! The subscription URL a person's apps import: what it opens, where the bot shows it, and
//! rotating its secret token, which revokes every copy of the old URL.

use domain::{
    has_access, AccessDenied, NodeSpec, Subscription, SubscriptionToken, UserId, VlessUuid,
};
use time::OffsetDateTime;

use crate::{App, AppError};

/// What `GET /sub/{token}` serves: the owner's access, the nodes and their credential.
#[derive(Debug, Clone)]
pub struct SubscriptionFeed {
    /// Whether the owner may connect at the time asked about, and if not, why.
    pub access: Result<(), AccessDenied>,
    /// When the current or last subscription ends.
    pub expires_at: Option<OffsetDateTime>,
    pub vless_uuid: VlessUuid,
    pub nodes: Vec<NodeSpec>,
    /// The subscription URL itself.
    pub url: String,
}

/// A person's subscription and the URL their apps import it from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MySubscription {
    pub subscription: Subscription,
    pub url: String,
}

impl App {
    /// The person's subscription (current or ended), if they ever had one.
    pub async fn subscription(&self, user: UserId) -> Result<Option<Subscription>, AppError> {
        Ok(self.store().subscription(user).await?)
    }

    /// The person's subscription token, for links that carry it (the card checkout); `None` if
    /// the person is gone.
    pub async fn subscription_token(
        &self,
        user: UserId,
    ) -> Result<Option<SubscriptionToken>, AppError> {
        Ok(self.store().credentials(user).await?.map(|c| c.sub_token))
    }

    /// The subscription and its URL; `None` for a person who never had a subscription (there
    /// is nothing to import yet).
    pub async fn my_subscription(&self, user: UserId) -> Result<Option<MySubscription>, AppError> {
        let Some(subscription) = self.store().subscription(user).await? else {
            return Ok(None);
        };
        let Some(credentials) = self.store().credentials(user).await? else {
            return Ok(None);
        };
        Ok(Some(MySubscription {
            subscription,
            url: self.subscription_url(&credentials.sub_token),
        }))
    }

    /// Issues a new subscription token: every copy of the old URL stops working; node access
    /// is unaffected.
    pub async fn rotate_subscription_token(
        &self,
        user: UserId,
    ) -> Result<SubscriptionToken, AppError> {
        Ok(self.store().rotate_sub_token(user).await?)
    }

    /// What the subscription URL with `token` serves at `now`; `None` for a token nobody has.
    pub async fn subscription_feed(
        &self,
        token: &SubscriptionToken,
        now: OffsetDateTime,
    ) -> Result<Option<SubscriptionFeed>, AppError> {
        let Some(user) = self.store().user_by_sub_token(token).await? else {
            return Ok(None);
        };
        let subscription = self.store().subscription(user.id).await?;
        // A user whose credentials vanished between two reads (deleted meanwhile) is gone.
        let Some(credentials) = self.store().credentials(user.id).await? else {
            return Ok(None);
        };
        let nodes = self.store().list_nodes().await?;
        Ok(Some(SubscriptionFeed {
            access: has_access(&user, subscription.as_ref(), now),
            expires_at: subscription.map(|s| s.ends_at),
            vless_uuid: credentials.vless_uuid,
            nodes,
            url: self.subscription_url(token),
        }))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::AppSettings;

    use store::testing::TestDb;

    use super::*;

    #[tokio::test]
    async fn my_subscription_is_shown_only_once_there_is_one_and_rotation_moves_its_url() {
        let db = TestDb::sqlite().await;
        let app = App::new(db.store.clone(), AppSettings::default());
        let now = OffsetDateTime::now_utc();
        let user = db.user(31, now).await;
        assert!(app.my_subscription(user.id).await.unwrap().is_none());
        assert!(app.subscription_token(user.id).await.unwrap().is_some());
        db.grant(user.id, "m", 30, now).await;
        let before = app.my_subscription(user.id).await.unwrap().unwrap();
        let old = app.subscription_token(user.id).await.unwrap().unwrap();
        let new = app.rotate_subscription_token(user.id).await.unwrap();
        let after = app.my_subscription(user.id).await.unwrap().unwrap();
        assert_ne!(before.url, after.url);
        assert!(after.url.ends_with(new.as_str()));
        assert!(app.subscription_feed(&old, now).await.unwrap().is_none());
        let feed = app.subscription_feed(&new, now).await.unwrap().unwrap();
        assert_eq!(feed.access, Ok(()));
        assert_eq!(feed.expires_at, Some(after.subscription.ends_at));
    }

    #[tokio::test]
    async fn the_feed_of_a_blocked_person_says_so() {
        let db = TestDb::sqlite().await;
        let app = App::new(db.store.clone(), AppSettings::default());
        let now = OffsetDateTime::now_utc();
        let user = db.user(32, now).await;
        db.store.set_blocked(user.id, true).await.unwrap();
        let token = app.subscription_token(user.id).await.unwrap().unwrap();
        let feed = app.subscription_feed(&token, now).await.unwrap().unwrap();
        assert_eq!(feed.access, Err(AccessDenied::Blocked));
        assert_eq!(feed.expires_at, None);
    }
}
