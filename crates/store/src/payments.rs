//! Payments: recording them, and crediting a paid plan exactly once.
//!
//! Crediting happens only on the way from pending to succeeded, inside the transaction that
//! makes that move with a conditional `UPDATE ... WHERE status = 'pending'`: whichever caller
//! changes the row credits, every other one (a duplicate webhook, a replay, a racing
//! reconciler) sees nothing change. Payments reported only once paid (Telegram Stars) are
//! inserted as succeeded, guarded by `UNIQUE (provider, provider_payment_id)`.

use domain::{
    from_unix_seconds, unix_seconds, Currency, Days, GiftCode, Money, Payment, PaymentId,
    PaymentStatus, PlanId, PromoCodeId, Provider, Subscription, SubscriptionError, UserId,
};
use sqlx::any::AnyRow;
use sqlx::{Any, Row as _, Transaction};
use time::OffsetDateTime;

use crate::error::{missing_user, missing_user_or};
use crate::gifts::{create_gift_in, gift_code_in};
use crate::promo::record_redemption_in;
use crate::referrals::reward_referral_in;
use crate::subscriptions::grant_in;
use crate::{Store, StoreError};

pub(crate) const PAYMENT_COLUMNS: &str = "id, user_id, provider, provider_payment_id, plan, \
     days, amount_minor, refunded_minor, currency, status, created_at, updated_at, promo_code_id";

/// A payment about to be recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPayment {
    pub user_id: UserId,
    pub provider: Provider,
    /// The provider's id, when already known (YooKassa's payment id, Telegram's charge id).
    pub provider_payment_id: Option<String>,
    pub plan: PlanId,
    pub days: Days,
    pub amount: Money,
    pub created_at: OffsetDateTime,
}

/// What settling a payment did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    /// This call moved the payment to succeeded and credited the plan's days.
    Credited(Subscription),
    /// The status changed and nothing was credited (canceled or refunded).
    Marked,
    /// The provider says it succeeded, but its payer was erased meanwhile: nobody can be
    /// credited, so the payment is left pending for the caller to give the money back (and
    /// then move it to refunded).
    Uncreditable,
    /// The payment already had this status, or another caller settled it first: nothing done.
    AlreadySettled,
    /// This call moved a gift's payment to succeeded: nobody got days yet; the code, shown to
    /// the buyer, gives them to whoever redeems it.
    GiftPaid(GiftCode),
}

pub(crate) fn payment_from_row(row: &AnyRow) -> Result<Payment, StoreError> {
    let provider: String = row.try_get("provider")?;
    let currency: String = row.try_get("currency")?;
    let status: String = row.try_get("status")?;
    let days: i64 = row.try_get("days")?;
    let user_id: Option<i64> = row.try_get("user_id")?;
    let promo_code_id: Option<i64> = row.try_get("promo_code_id")?;
    Ok(Payment {
        id: PaymentId(row.try_get("id")?),
        user_id: user_id.map(UserId),
        provider: Provider::from_code(&provider).ok_or(StoreError::Corrupt("payments.provider"))?,
        provider_payment_id: row.try_get("provider_payment_id")?,
        plan: PlanId(row.try_get("plan")?),
        days: Days(u32::try_from(days).map_err(|_| StoreError::Corrupt("payments.days"))?),
        amount: Money {
            minor: row.try_get("amount_minor")?,
            currency: Currency::from_code(&currency)
                .ok_or(StoreError::Corrupt("payments.currency"))?,
        },
        refunded_minor: row.try_get("refunded_minor")?,
        status: PaymentStatus::from_code(&status).ok_or(StoreError::Corrupt("payments.status"))?,
        promo_code_id: promo_code_id.map(PromoCodeId),
        created_at: from_unix_seconds(row.try_get("created_at")?),
        updated_at: from_unix_seconds(row.try_get("updated_at")?),
    })
}

/// Refuses day counts that could never be credited, before any money is taken for them.
fn check_days(days: Days) -> Result<(), StoreError> {
    if days.0 == 0 || days > Days::MAX {
        return Err(SubscriptionError::DaysOutOfRange.into());
    }
    Ok(())
}

/// Payment `id` as read inside `tx`, or [`StoreError::PaymentNotFound`].
pub(crate) async fn payment_in(
    tx: &mut Transaction<'static, Any>,
    id: PaymentId,
) -> Result<Payment, StoreError> {
    let sql = format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE id = $1");
    let row = sqlx::query(&sql)
        .bind(id.0)
        .fetch_optional(&mut **tx)
        .await?;
    let payment = row.as_ref().map(payment_from_row).transpose()?;
    payment.ok_or(StoreError::PaymentNotFound)
}

pub(crate) fn unique_to_taken(err: sqlx::Error) -> StoreError {
    if StoreError::is_unique_violation(&err) {
        StoreError::ProviderPaymentIdTaken
    } else {
        err.into()
    }
}

impl Store {
    /// Records a payment as pending, before the person pays.
    pub async fn create_payment(&self, new: &NewPayment) -> Result<Payment, StoreError> {
        check_days(new.days)?;
        let sql = format!(
            "INSERT INTO payments (user_id, provider, provider_payment_id, plan, days, \
             amount_minor, currency, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $8) RETURNING {PAYMENT_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(new.user_id.0)
            .bind(new.provider.code())
            .bind(new.provider_payment_id.as_deref())
            .bind(new.plan.0.as_str())
            .bind(i64::from(new.days.0))
            .bind(new.amount.minor)
            .bind(new.amount.currency.code())
            .bind(unix_seconds(new.created_at))
            .fetch_one(&self.pool)
            .await
            .map_err(|err| missing_user_or(err, unique_to_taken))?;
        payment_from_row(&row)
    }

    pub async fn payment(&self, id: PaymentId) -> Result<Option<Payment>, StoreError> {
        let sql = format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(payment_from_row).transpose()
    }

    pub async fn payment_by_provider_id(
        &self,
        provider: Provider,
        provider_payment_id: &str,
    ) -> Result<Option<Payment>, StoreError> {
        let sql = format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments \
             WHERE provider = $1 AND provider_payment_id = $2"
        );
        let row = sqlx::query(&sql)
            .bind(provider.code())
            .bind(provider_payment_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(payment_from_row).transpose()
    }

    /// Every payment, or one person's, oldest first.
    pub async fn list_payments(&self, user: Option<UserId>) -> Result<Vec<Payment>, StoreError> {
        let rows = match user {
            Some(user) => {
                let sql = format!(
                    "SELECT {PAYMENT_COLUMNS} FROM payments WHERE user_id = $1 ORDER BY id"
                );
                sqlx::query(&sql).bind(user.0).fetch_all(&self.pool).await?
            }
            None => {
                let sql = format!("SELECT {PAYMENT_COLUMNS} FROM payments ORDER BY id");
                sqlx::query(&sql).fetch_all(&self.pool).await?
            }
        };
        rows.iter().map(payment_from_row).collect()
    }

    /// Pending payments of one provider created before `created_before`, oldest first: what a
    /// reconciler asks the provider about when no notification came.
    pub async fn pending_payments(
        &self,
        provider: Provider,
        created_before: OffsetDateTime,
    ) -> Result<Vec<Payment>, StoreError> {
        let sql = format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments \
             WHERE provider = $1 AND status = 'pending' AND created_at < $2 ORDER BY id"
        );
        let rows = sqlx::query(&sql)
            .bind(provider.code())
            .bind(unix_seconds(created_before))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(payment_from_row).collect()
    }

    /// Moves a payment to `status`, recording the provider's id if given. Pending → succeeded
    /// credits the plan's days in the same transaction, exactly once however many callers race;
    /// when the payer was erased it changes nothing and says [`Settlement::Uncreditable`].
    /// A refund only marks the payment; taking days back is the caller's decision.
    pub async fn settle_payment(
        &self,
        id: PaymentId,
        status: PaymentStatus,
        provider_payment_id: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Settlement, StoreError> {
        let mut tx = self.begin_write().await?;
        let current = payment_in(&mut tx, id).await?;
        if current.status == status {
            return Ok(Settlement::AlreadySettled);
        }
        if !current.status.can_become(status) {
            return Err(StoreError::InvalidTransition {
                from: current.status,
                to: status,
            });
        }
        if status == PaymentStatus::Succeeded && current.user_id.is_none() {
            return Ok(Settlement::Uncreditable);
        }
        let moved = sqlx::query(
            "UPDATE payments SET status = $1, updated_at = $2, \
             provider_payment_id = COALESCE($3, provider_payment_id) \
             WHERE id = $4 AND status = $5",
        )
        .bind(status.code())
        .bind(unix_seconds(now))
        .bind(provider_payment_id)
        .bind(id.0)
        .bind(current.status.code())
        .execute(&mut *tx)
        .await
        .map_err(unique_to_taken)?;
        if moved.rows_affected() == 0 {
            // Another transaction moved it between our read and our update (PostgreSQL).
            return Ok(Settlement::AlreadySettled);
        }
        let settlement = match (status, current.user_id) {
            (PaymentStatus::Succeeded, Some(user)) => {
                // The discount's use is recorded before the grant, the order every promo
                // transaction takes its locks in.
                if let Some(code) = current.promo_code_id {
                    record_redemption_in(&mut tx, code, user, id, now).await?;
                }
                let settled = match gift_code_in(&mut tx, id).await? {
                    Some(code) => {
                        Settlement::GiftPaid(code.ok_or(StoreError::Corrupt("gifts.code"))?)
                    }
                    None => Settlement::Credited(
                        grant_in(&mut tx, user, current.plan, current.days, now).await?,
                    ),
                };
                // The payer's first payment rewards whoever referred them, in this
                // transaction: once, whatever is replayed.
                reward_referral_in(&mut tx, user, now).await?;
                settled
            }
            _ => Settlement::Marked,
        };
        if status == PaymentStatus::Refunded {
            // Moved to refunded without an amount: all of it.
            sqlx::query("UPDATE payments SET refunded_minor = amount_minor WHERE id = $1")
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(settlement)
    }

    /// Records a payment the provider reports only once it succeeded (Telegram Stars'
    /// `successful_payment`) and credits it, in one transaction. The same provider id again
    /// credits nothing and returns [`Settlement::AlreadySettled`].
    pub async fn record_paid(&self, new: &NewPayment) -> Result<Settlement, StoreError> {
        self.record_paid_as(new, None, None).await
    }

    /// [`Store::record_paid`] of a payment offered with discount code `promo`: the code's use
    /// by the payer is recorded in the same transaction, once.
    pub async fn record_paid_with_promo(
        &self,
        new: &NewPayment,
        promo: Option<PromoCodeId>,
    ) -> Result<Settlement, StoreError> {
        self.record_paid_as(new, promo, None).await
    }

    /// As [`Store::record_paid`], for a plan bought as a gift: nobody is credited; the payment
    /// is marked a gift with `code` and [`Settlement::GiftPaid`] returned, once.
    pub async fn record_paid_gift(
        &self,
        new: &NewPayment,
        code: &GiftCode,
    ) -> Result<Settlement, StoreError> {
        self.record_paid_as(new, None, Some(code)).await
    }

    async fn record_paid_as(
        &self,
        new: &NewPayment,
        promo: Option<PromoCodeId>,
        gift: Option<&GiftCode>,
    ) -> Result<Settlement, StoreError> {
        check_days(new.days)?;
        let provider_payment_id = new
            .provider_payment_id
            .as_deref()
            .ok_or(StoreError::MissingProviderPaymentId)?;
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO payments (user_id, provider, provider_payment_id, plan, days, \
             amount_minor, currency, status, created_at, updated_at, promo_code_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'succeeded', $8, $8, $9) \
             ON CONFLICT (provider, provider_payment_id) DO NOTHING RETURNING id",
        )
        .bind(new.user_id.0)
        .bind(new.provider.code())
        .bind(provider_payment_id)
        .bind(new.plan.0.as_str())
        .bind(i64::from(new.days.0))
        .bind(new.amount.minor)
        .bind(new.amount.currency.code())
        .bind(unix_seconds(new.created_at))
        .bind(promo.map(|p| p.0))
        .fetch_optional(&mut *tx)
        .await
        .map_err(missing_user)?;
        let Some(inserted) = inserted else {
            return Ok(Settlement::AlreadySettled);
        };
        if let Some(code) = promo {
            let payment = PaymentId(inserted.try_get("id")?);
            record_redemption_in(&mut tx, code, new.user_id, payment, new.created_at).await?;
        }
        let settled = match gift {
            Some(code) => {
                create_gift_in(&mut tx, PaymentId(inserted.try_get("id")?), code).await?;
                Settlement::GiftPaid(code.clone())
            }
            None => Settlement::Credited(
                grant_in(
                    &mut tx,
                    new.user_id,
                    new.plan.clone(),
                    new.days,
                    new.created_at,
                )
                .await?,
            ),
        };
        reward_referral_in(&mut tx, new.user_id, new.created_at).await?;
        tx.commit().await?;
        Ok(settled)
    }
}
