//! Subscriptions: granting days and the once-only free trial.

use domain::{from_unix_seconds, unix_seconds, Days, PlanId, Subscription, UserId, TRIAL_PLAN_ID};
use sqlx::any::AnyRow;
use sqlx::{Any, Row as _, Transaction};
use time::OffsetDateTime;

use crate::{access, Store, StoreError};

/// What claiming the free trial did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrialOutcome {
    Granted(Subscription),
    /// This claim key took the trial before (possibly under an account since erased).
    AlreadyUsed,
}

/// Reads a subscription from a row holding `plan`, `activated_at`, `ends_at` and the user id in
/// `user_column`.
pub(crate) fn subscription_from_row(
    row: &AnyRow,
    user_column: &str,
) -> Result<Subscription, StoreError> {
    Ok(Subscription {
        user_id: UserId(row.try_get(user_column)?),
        plan: PlanId(row.try_get("plan")?),
        activated_at: from_unix_seconds(row.try_get("activated_at")?),
        ends_at: from_unix_seconds(row.try_get("ends_at")?),
    })
}

impl Store {
    pub async fn subscription(&self, user: UserId) -> Result<Option<Subscription>, StoreError> {
        let row = sqlx::query(
            "SELECT user_id, plan, activated_at, ends_at FROM subscriptions WHERE user_id = $1",
        )
        .bind(user.0)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref()
            .map(|row| subscription_from_row(row, "user_id"))
            .transpose()
    }

    /// Adds `days` of `plan`: an active subscription is extended, an expired or missing one
    /// starts now (the rule is `domain::Subscription::grant`).
    pub async fn grant_days(
        &self,
        user: UserId,
        plan: PlanId,
        days: Days,
        now: OffsetDateTime,
    ) -> Result<Subscription, StoreError> {
        let mut tx = self.begin_write().await?;
        let sub = grant_in(&mut tx, user, plan, days, now).await?;
        tx.commit().await?;
        Ok(sub)
    }

    /// Grants the free trial unless `claim_key` took it before. The key is an opaque keyed hash
    /// of the Telegram id computed by the caller, so the claim outlives the person's erasure
    /// without keeping their id.
    pub async fn claim_trial(
        &self,
        claim_key: &str,
        user: UserId,
        days: Days,
        now: OffsetDateTime,
    ) -> Result<TrialOutcome, StoreError> {
        let mut tx = self.begin_write().await?;
        let claimed = sqlx::query(
            "INSERT INTO trial_claims (claim_key, claimed_at) VALUES ($1, $2) \
             ON CONFLICT (claim_key) DO NOTHING",
        )
        .bind(claim_key)
        .bind(unix_seconds(now))
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() == 0 {
            return Ok(TrialOutcome::AlreadyUsed);
        }
        let sub = grant_in(&mut tx, user, PlanId(TRIAL_PLAN_ID.into()), days, now).await?;
        tx.commit().await?;
        Ok(TrialOutcome::Granted(sub))
    }
}

/// Grants days inside a caller's transaction: bumps the access revision first (which on
/// PostgreSQL also serializes concurrent grants on that row, so none is lost), then reads,
/// applies the domain rule and writes back.
pub(crate) async fn grant_in(
    tx: &mut Transaction<'static, Any>,
    user: UserId,
    plan: PlanId,
    days: Days,
    now: OffsetDateTime,
) -> Result<Subscription, StoreError> {
    let revision = access::bump_revision(tx).await?;
    let existing = sqlx::query(
        "SELECT user_id, plan, activated_at, ends_at FROM subscriptions WHERE user_id = $1",
    )
    .bind(user.0)
    .fetch_optional(&mut **tx)
    .await?;
    let existing = existing
        .as_ref()
        .map(|row| subscription_from_row(row, "user_id"))
        .transpose()?;
    let now = from_unix_seconds(unix_seconds(now));
    let sub = Subscription::grant(existing.as_ref(), user, plan, days, now)?;
    // Credentials exist exactly when the user does, so this also checks the user exists.
    access::mark_changed(tx, user, revision).await?;
    sqlx::query(
        "INSERT INTO subscriptions (user_id, plan, activated_at, ends_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id) DO UPDATE SET plan = excluded.plan, \
         activated_at = excluded.activated_at, ends_at = excluded.ends_at",
    )
    .bind(user.0)
    .bind(sub.plan.0.as_str())
    .bind(unix_seconds(sub.activated_at))
    .bind(unix_seconds(sub.ends_at))
    .execute(&mut **tx)
    .await?;
    Ok(sub)
}
