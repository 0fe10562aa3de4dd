//! The people, subscriptions and payments tests start from, written once for every crate's tests.

use domain::{
    Days, Location, Money, NewUser, NodeSecurity, NodeSpec, Payment, PaymentStatus, PlanId,
    Provider, Subscription, SubscriptionToken, TelegramId, TlsParams, User, UserId,
};
use time::OffsetDateTime;

use super::TestDb;
use crate::{Credentials, NewPayment};

impl TestDb {
    /// Someone known only by their Telegram id, signed up at `at`.
    pub async fn user(&self, telegram_id: i64, at: OffsetDateTime) -> User {
        self.store
            .create_user(&NewUser::from_telegram_id(TelegramId(telegram_id)), at)
            .await
            .expect("create a test user")
    }

    /// `days` of `plan` for `user` from `at` (or added to the subscription running at `at`).
    pub async fn grant(
        &self,
        user: UserId,
        plan: &str,
        days: u32,
        at: OffsetDateTime,
    ) -> Subscription {
        self.store
            .grant_days(user, PlanId(plan.into()), Days(days), at)
            .await
            .expect("grant test days")
    }

    /// Someone known only by their Telegram id, with `days` of `plan` from `at`.
    pub async fn subscriber(
        &self,
        telegram_id: i64,
        plan: &str,
        days: u32,
        at: OffsetDateTime,
    ) -> User {
        let user = self.user(telegram_id, at).await;
        self.grant(user.id, plan, days, at).await;
        user
    }

    /// The credentials of someone who exists.
    pub async fn credentials(&self, user: UserId) -> Credentials {
        self.store
            .credentials(user)
            .await
            .expect("read test credentials")
            .expect("the test user has credentials")
    }

    /// The subscription token of someone who exists.
    pub async fn sub_token(&self, user: UserId) -> SubscriptionToken {
        self.credentials(user).await.sub_token
    }

    /// A TLS node `name` in `location` at `host`:443, its certificate for `host`.
    pub async fn tls_node(&self, name: &str, location: &str, host: &str) -> NodeSpec {
        let tls = NodeSecurity::Tls(TlsParams {
            server_name: host.into(),
            allow_insecure: false,
        });
        self.store
            .upsert_node(name, &Location(location.into()), host, 443, &tls)
            .await
            .expect("add a test node")
    }

    /// `new` created, pending.
    pub async fn pending(&self, new: &NewPayment) -> Payment {
        self.store
            .create_payment(new)
            .await
            .expect("create a test payment")
    }

    /// `new` created as pending and settled as succeeded at its `created_at`: paid and credited.
    pub async fn paid(&self, new: &NewPayment) -> Payment {
        let pending = self.pending(new).await;
        self.store
            .settle_payment(pending.id, PaymentStatus::Succeeded, None, new.created_at)
            .await
            .expect("settle a test payment");
        pending
    }
}

/// A card payment through YooKassa for a month (30 days, 199 ₽), made at `at`.
pub fn card_payment(
    user: UserId,
    provider_payment_id: Option<&str>,
    at: OffsetDateTime,
) -> NewPayment {
    NewPayment {
        user_id: user,
        provider: Provider::YooKassa,
        provider_payment_id: provider_payment_id.map(str::to_owned),
        plan: PlanId("month".into()),
        days: Days(30),
        amount: Money::rub_kopecks(19_900),
        created_at: at,
    }
}

/// A month (30 days) paid with 150 Telegram Stars under `charge_id`, at `at`.
pub fn stars_payment(user: UserId, charge_id: &str, at: OffsetDateTime) -> NewPayment {
    NewPayment {
        provider: Provider::TelegramStars,
        provider_payment_id: Some(charge_id.into()),
        amount: Money::stars(150),
        ..card_payment(user, None, at)
    }
}
