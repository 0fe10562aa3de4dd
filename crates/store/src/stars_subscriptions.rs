//! Telegram Stars subscriptions: the person's latest recurring charge id (what
//! `editUserStarSubscription` needs to cancel it) and until when it is paid. Crediting each
//! payment is `record_paid`'s, once per charge id; this only remembers the subscription.

use domain::{from_unix_seconds, unix_seconds, PlanId, UserId};
use sqlx::Row as _;
use time::OffsetDateTime;

use crate::error::missing_user_or;
use crate::{Store, StoreError};

/// A person's Stars subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StarsSubscription {
    pub plan: PlanId,
    /// Telegram's charge id of the latest payment of the subscription.
    pub charge_id: String,
    /// `subscription_expiration_date` of that payment.
    pub renews_until: OffsetDateTime,
}

impl Store {
    /// Remembers the person's Stars subscription as its latest payment describes it; an older
    /// payment delivered late does not replace a newer one.
    pub async fn record_stars_subscription(
        &self,
        user: UserId,
        subscription: &StarsSubscription,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO stars_subscriptions (user_id, plan, charge_id, renews_until) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) DO UPDATE SET \
             plan = excluded.plan, charge_id = excluded.charge_id, \
             renews_until = excluded.renews_until \
             WHERE stars_subscriptions.renews_until <= excluded.renews_until",
        )
        .bind(user.0)
        .bind(subscription.plan.0.as_str())
        .bind(subscription.charge_id.as_str())
        .bind(unix_seconds(subscription.renews_until))
        .execute(&self.pool)
        .await
        .map_err(|err| missing_user_or(err, StoreError::from))?;
        Ok(())
    }

    /// The person's Stars subscription, if one is remembered.
    pub async fn stars_subscription(
        &self,
        user: UserId,
    ) -> Result<Option<StarsSubscription>, StoreError> {
        let row = sqlx::query(
            "SELECT plan, charge_id, renews_until FROM stars_subscriptions WHERE user_id = $1",
        )
        .bind(user.0)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(StarsSubscription {
                plan: PlanId(row.try_get("plan")?),
                charge_id: row.try_get("charge_id")?,
                renews_until: from_unix_seconds(row.try_get("renews_until")?),
            })
        })
        .transpose()
    }

    /// Forgets the person's Stars subscription (canceled with our button). `true` if there was
    /// one.
    pub async fn forget_stars_subscription(&self, user: UserId) -> Result<bool, StoreError> {
        let deleted = sqlx::query("DELETE FROM stars_subscriptions WHERE user_id = $1")
            .bind(user.0)
            .execute(&self.pool)
            .await?;
        Ok(deleted.rows_affected() > 0)
    }
}
