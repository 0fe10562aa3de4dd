//! Card auto-renewal (opt-in): the saved payment method's id at YooKassa for each person who
//! switched it on, and the attempts to charge it for the period that is ending.
//!
//! Each attempt is claimed by one conditional update inside the transaction that also opens
//! its pending payment, so however many processes run the renewal job, an attempt is made
//! once: the first of a period when the row's `period_end` is not the subscription's end yet,
//! a retry only after the previous attempt's payment was canceled and its time has come. The
//! row is deleted when auto-renewal is switched off or stops, and with the person.

use std::fmt;

use domain::{from_unix_seconds, unix_seconds, Payment, PaymentId, PlanId, Subscription, UserId};
use sqlx::any::AnyRow;
use sqlx::Row as _;
use time::OffsetDateTime;

use crate::error::missing_user_or;
use crate::payments::{payment_from_row, unique_to_taken, PAYMENT_COLUMNS};
use crate::subscriptions::subscription_from_row;
use crate::{NewPayment, Store, StoreError};

/// A person's auto-renewal: on while this exists.
#[derive(Clone, PartialEq, Eq)]
pub struct AutoRenewal {
    pub user_id: UserId,
    /// The plan each renewal buys (the one bought when it was switched on).
    pub plan: PlanId,
    /// YooKassa's id of the saved payment method: only usable with the shop's credentials.
    pub payment_method_id: String,
    pub enabled_at: OffsetDateTime,
    /// The subscription end the attempts so far were for.
    pub period_end: Option<OffsetDateTime>,
    /// Attempts made for `period_end`.
    pub attempts: u32,
    /// When the next retry may be made.
    pub next_attempt_at: Option<OffsetDateTime>,
    /// Our payment of the latest attempt.
    pub payment_id: Option<PaymentId>,
}

/// The method id is a credential towards the shop: `{:?}` leaves it out.
impl fmt::Debug for AutoRenewal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AutoRenewal")
            .field("plan", &self.plan)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// An attempt this caller claimed: charge it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenewalAttempt {
    /// The pending payment opened for it.
    pub payment: Payment,
    /// 1 for the first attempt of the period, then 2, 3, ...
    pub number: u32,
    pub payment_method_id: String,
}

const COLUMNS: &str = "auto_renewals.user_id, auto_renewals.plan AS renew_plan, \
     payment_method_id, enabled_at, period_end, attempts, next_attempt_at, payment_id";

fn from_row(row: &AnyRow) -> Result<AutoRenewal, StoreError> {
    let attempts: i64 = row.try_get("attempts")?;
    let period_end: Option<i64> = row.try_get("period_end")?;
    let next: Option<i64> = row.try_get("next_attempt_at")?;
    let payment: Option<i64> = row.try_get("payment_id")?;
    Ok(AutoRenewal {
        user_id: UserId(row.try_get("user_id")?),
        plan: PlanId(row.try_get("renew_plan")?),
        payment_method_id: row.try_get("payment_method_id")?,
        enabled_at: from_unix_seconds(row.try_get("enabled_at")?),
        period_end: period_end.map(from_unix_seconds),
        attempts: u32::try_from(attempts)
            .map_err(|_| StoreError::Corrupt("auto_renewals.attempts"))?,
        next_attempt_at: next.map(from_unix_seconds),
        payment_id: payment.map(PaymentId),
    })
}

impl Store {
    /// Records that the payer of pending payment `id` asked for auto-renewal at checkout.
    pub async fn mark_payment_saves_method(&self, id: PaymentId) -> Result<(), StoreError> {
        sqlx::query("UPDATE payments SET saves_method = 1 WHERE id = $1 AND status = 'pending'")
            .bind(id.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Whether the payer of payment `id` asked for auto-renewal at checkout.
    pub async fn payment_saves_method(&self, id: PaymentId) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT saves_method FROM payments WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(row) => Ok(row.try_get::<i64, _>("saves_method")? == 1),
            None => Ok(false),
        }
    }

    /// Whether payment `id` is an auto-renewal's latest attempt (left to the renewal job,
    /// which makes it again under the same key, rather than canceled by the reconciler).
    pub async fn is_open_renewal_attempt(&self, id: PaymentId) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT user_id FROM auto_renewals WHERE payment_id = $1")
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// Switches auto-renewal on for `user` with the method YooKassa saved (replacing an
    /// earlier one, with a fresh count of attempts).
    pub async fn enable_auto_renewal(
        &self,
        user: UserId,
        plan: &PlanId,
        payment_method_id: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO auto_renewals (user_id, plan, payment_method_id, enabled_at, attempts) \
             VALUES ($1, $2, $3, $4, 0) ON CONFLICT (user_id) DO UPDATE SET \
             plan = excluded.plan, payment_method_id = excluded.payment_method_id, \
             enabled_at = excluded.enabled_at, period_end = NULL, attempts = 0, \
             next_attempt_at = NULL, payment_id = NULL",
        )
        .bind(user.0)
        .bind(plan.0.as_str())
        .bind(payment_method_id)
        .bind(unix_seconds(now))
        .execute(&self.pool)
        .await
        .map_err(|err| missing_user_or(err, StoreError::from))?;
        Ok(())
    }

    /// The person's auto-renewal, if on.
    pub async fn auto_renewal(&self, user: UserId) -> Result<Option<AutoRenewal>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM auto_renewals WHERE user_id = $1");
        let row = sqlx::query(&sql)
            .bind(user.0)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Switches auto-renewal off: the saved method's id is deleted at once. `true` if it was on.
    pub async fn disable_auto_renewal(&self, user: UserId) -> Result<bool, StoreError> {
        let deleted = sqlx::query("DELETE FROM auto_renewals WHERE user_id = $1")
            .bind(user.0)
            .execute(&self.pool)
            .await?;
        let was_on = deleted.rows_affected() > 0;
        if was_on {
            // Out of SQLite's WAL too, as at erasure.
            self.checkpoint_after_erasure().await;
        }
        Ok(was_on)
    }

    /// Auto-renewals of people who are not blocked and whose subscription ends by `horizon`,
    /// soonest end first.
    pub async fn auto_renewals_due(
        &self,
        horizon: OffsetDateTime,
    ) -> Result<Vec<(AutoRenewal, Subscription)>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS}, subscriptions.plan, activated_at, ends_at FROM auto_renewals \
             JOIN subscriptions ON subscriptions.user_id = auto_renewals.user_id \
             JOIN users ON users.id = auto_renewals.user_id \
             WHERE subscriptions.ends_at <= $1 AND users.blocked = 0 \
             ORDER BY subscriptions.ends_at, auto_renewals.user_id"
        );
        let rows = sqlx::query(&sql)
            .bind(unix_seconds(horizon))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok((from_row(row)?, subscription_from_row(row, "user_id")?)))
            .collect()
    }

    /// Claims the next attempt to renew the period ending `period_end` and opens its pending
    /// payment, in one transaction: the first attempt of a period, or a retry once the
    /// previous attempt's payment is canceled, `next_attempt_at` has come and fewer than
    /// `max_attempts` were made. `None` when there is nothing to claim (another process did,
    /// the previous attempt is still open, or the attempts are used up).
    pub async fn claim_renewal_attempt(
        &self,
        new: &NewPayment,
        period_end: OffsetDateTime,
        retry_at: OffsetDateTime,
        max_attempts: u32,
    ) -> Result<Option<RenewalAttempt>, StoreError> {
        let mut tx = self.begin_write().await?;
        let user = new.user_id.0;
        let end = unix_seconds(period_end);
        let first = sqlx::query(
            "UPDATE auto_renewals SET period_end = $2, attempts = 1, next_attempt_at = $3 \
             WHERE user_id = $1 AND (period_end IS NULL OR period_end <> $2)",
        )
        .bind(user)
        .bind(end)
        .bind(unix_seconds(retry_at))
        .execute(&mut *tx)
        .await?;
        if first.rows_affected() == 0 {
            let retry = sqlx::query(
                "UPDATE auto_renewals SET attempts = attempts + 1, next_attempt_at = $3 \
                 WHERE user_id = $1 AND period_end = $2 AND attempts < $4 \
                 AND next_attempt_at <= $5 AND (payment_id IS NULL OR payment_id IN \
                 (SELECT id FROM payments WHERE status = 'canceled'))",
            )
            .bind(user)
            .bind(end)
            .bind(unix_seconds(retry_at))
            .bind(i64::from(max_attempts))
            .bind(unix_seconds(new.created_at))
            .execute(&mut *tx)
            .await?;
            if retry.rows_affected() == 0 {
                return Ok(None);
            }
        }
        let sql = format!(
            "INSERT INTO payments (user_id, provider, provider_payment_id, plan, days, \
             amount_minor, currency, status, created_at, updated_at) \
             VALUES ($1, $2, NULL, $3, $4, $5, $6, 'pending', $7, $7) RETURNING {PAYMENT_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(user)
            .bind(new.provider.code())
            .bind(new.plan.0.as_str())
            .bind(i64::from(new.days.0))
            .bind(new.amount.minor)
            .bind(new.amount.currency.code())
            .bind(unix_seconds(new.created_at))
            .fetch_one(&mut *tx)
            .await
            .map_err(|err| missing_user_or(err, unique_to_taken))?;
        let payment = payment_from_row(&row)?;
        let claimed = sqlx::query(
            "UPDATE auto_renewals SET payment_id = $2 WHERE user_id = $1 \
             RETURNING attempts, payment_method_id",
        )
        .bind(user)
        .bind(payment.id.0)
        .fetch_one(&mut *tx)
        .await?;
        let number: i64 = claimed.try_get("attempts")?;
        let payment_method_id: String = claimed.try_get("payment_method_id")?;
        tx.commit().await?;
        Ok(Some(RenewalAttempt {
            payment,
            number: u32::try_from(number)
                .map_err(|_| StoreError::Corrupt("auto_renewals.attempts"))?,
            payment_method_id,
        }))
    }
}
