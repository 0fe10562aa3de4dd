//! The people, subscriptions and payments tests start from, written once for every crate's tests.

use domain::{
    Days, JoinToken, Location, Money, NewUser, NodePrivateSettings, NodeRecord, NodeSecurity,
    NodeSpec, NodeStatus, Payment, PaymentStatus, PlanId, Provider, RealityParams, Subscription,
    SubscriptionToken, TelegramId, TlsParams, User, UserId,
};
use time::OffsetDateTime;

use super::TestDb;
use crate::{Credentials, NewPayment, NewRemoteNode};

impl TestDb {
    /// A promo code `code` giving `benefit`, without limits, made at `at`.
    pub async fn promo(
        &self,
        code: &str,
        benefit: domain::PromoBenefit,
        at: OffsetDateTime,
    ) -> domain::Promo {
        self.store
            .create_promo(&crate::NewPromo {
                code: code.parse().expect("a valid test promo code"),
                benefit,
                plan: None,
                max_uses: None,
                valid_until: None,
                created_at: at,
            })
            .await
            .expect("create a test promo code")
    }

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
            transports: Vec::new(),
        });
        self.store
            .upsert_node(name, &Location(location.into()), host, 443, &tls)
            .await
            .expect("add a test node")
    }

    /// A REALITY remote node `name` in `location` at 203.0.113.5:443, registered (its join
    /// token thrown away) but never enrolled.
    pub async fn remote_node(&self, name: &str, location: &str) -> NodeRecord {
        let security = NodeSecurity::Reality(RealityParams {
            public_key: "Z84J2IelR9ch3k8VtlVhhs5ycBUlXA7wHBWcBrjqnAw".into(),
            short_id: "6ba85179e30d4fc2".into(),
            server_name: "www.example.org".into(),
            mldsa65_verify: None,
            transports: Vec::new(),
        });
        let private = NodePrivateSettings::Reality {
            private_key: "SL2oS5M7XTc0bFvhcMKsjb1qCrfWsZ0PtnbScjvdeUE".into(),
            short_ids: vec!["6ba85179e30d4fc2".into()],
            dest: "www.example.org:443".into(),
            server_names: vec!["www.example.org".into()],
            max_time_diff_ms: 60_000,
        };
        let location = Location(location.into());
        let node = NewRemoteNode {
            name,
            location: &location,
            public_host: "203.0.113.5",
            port: 443,
            security: &security,
            private: &private,
            via: None,
            chain_key: None,
        };
        let expires = OffsetDateTime::now_utc() + time::Duration::hours(1);
        self.store
            .add_remote_node(&node, &JoinToken::generate().hash(), expires)
            .await
            .expect("add a test remote node")
            .expect("no node of that name yet")
    }

    /// `node` reports holding access revision `applied`, with `connections` open and `bytes`
    /// carried each way, last heard from at `at`.
    pub async fn node_reports(
        &self,
        node: &NodeRecord,
        applied: u64,
        connections: u64,
        bytes: u64,
        at: OffsetDateTime,
    ) {
        let status = NodeStatus {
            software_version: "test".into(),
            applied_revision: applied,
            connections,
            bytes_up: bytes,
            bytes_down: bytes,
            last_seen_at: at,
        };
        self.store
            .record_node_status(node.spec.id, &status)
            .await
            .expect("record a test node's report");
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
