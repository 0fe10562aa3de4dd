//! Gifts: a plan bought for someone else. The payment is the buyer's (its `user_id`); the
//! gift row holds the code, which whoever redeems it first turns into the plan's days, by one
//! conditional update that also clears the code, so a second redemption finds nothing.

use domain::{
    from_unix_seconds, unix_seconds, Days, GiftCode, PaymentId, PlanId, Subscription, UserId,
};
use serde::Serialize;
use sqlx::{Any, Row as _, Transaction};
use time::OffsetDateTime;

use crate::error::missing_user;
use crate::subscriptions::grant_in;
use crate::{Store, StoreError};

/// What redeeming a code did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GiftRedemption {
    /// This call redeemed it: the plan's days were granted to the redeemer.
    Redeemed {
        subscription: Subscription,
        days: Days,
    },
    /// No paid, unredeemed gift has this code (made up, redeemed already, expired, unpaid).
    NotRedeemable,
}

/// A gift as its buyer's export shows it; the code only while it can still be redeemed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GiftBought {
    pub payment: PaymentId,
    pub plan: PlanId,
    pub days: u32,
    pub code: Option<String>,
    pub redeemed: bool,
}

/// A gift its recipient redeemed, as their export shows it (never who bought it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GiftRedeemed {
    pub plan: PlanId,
    pub days: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub redeemed_at: OffsetDateTime,
}

/// Marks payment `payment` (inserted in `tx`) as a gift with `code`.
pub(crate) async fn create_gift_in(
    tx: &mut Transaction<'static, Any>,
    payment: PaymentId,
    code: &GiftCode,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO gifts (payment_id, code) VALUES ($1, $2)")
        .bind(payment.0)
        .bind(code.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The code of payment `payment` if it is a gift (`Some(None)`: a gift whose code is gone).
pub(crate) async fn gift_code_in(
    tx: &mut Transaction<'static, Any>,
    payment: PaymentId,
) -> Result<Option<Option<GiftCode>>, StoreError> {
    let row = sqlx::query("SELECT code FROM gifts WHERE payment_id = $1")
        .bind(payment.0)
        .fetch_optional(&mut **tx)
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let code: Option<String> = row.try_get("code")?;
    Ok(Some(code.and_then(|c| c.parse().ok())))
}

impl Store {
    /// Whether payment `id` was bought as a gift, and its code while unredeemed.
    pub async fn gift_of_payment(
        &self,
        id: PaymentId,
    ) -> Result<Option<Option<GiftCode>>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let gift = gift_code_in(&mut tx, id).await?;
        tx.commit().await?;
        Ok(gift)
    }

    /// Redeems `code` for `user`: the first call for a paid gift grants its plan's days and
    /// clears the code; every other call, at the same moment or later, gets `NotRedeemable`.
    pub async fn redeem_gift(
        &self,
        code: &GiftCode,
        user: UserId,
        now: OffsetDateTime,
    ) -> Result<GiftRedemption, StoreError> {
        let mut tx = self.begin_write().await?;
        let claimed = sqlx::query(
            "UPDATE gifts SET code = NULL, redeemed_by = $1, redeemed_at = $2 \
             WHERE code = $3 AND redeemed_at IS NULL AND payment_id IN \
             (SELECT id FROM payments WHERE status = 'succeeded') RETURNING payment_id",
        )
        .bind(user.0)
        .bind(unix_seconds(now))
        .bind(code.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(missing_user)?;
        let Some(claimed) = claimed else {
            return Ok(GiftRedemption::NotRedeemable);
        };
        let payment =
            crate::payments::payment_in(&mut tx, PaymentId(claimed.try_get("payment_id")?)).await?;
        let subscription = grant_in(&mut tx, user, payment.plan, payment.days, now).await?;
        tx.commit().await?;
        Ok(GiftRedemption::Redeemed {
            subscription,
            days: payment.days,
        })
    }

    /// Gifts `buyer` bought, oldest first.
    pub async fn gifts_bought(&self, buyer: UserId) -> Result<Vec<GiftBought>, StoreError> {
        let rows = sqlx::query(
            "SELECT gifts.payment_id, gifts.code, gifts.redeemed_at, payments.plan, \
             payments.days FROM gifts JOIN payments ON payments.id = gifts.payment_id \
             WHERE payments.user_id = $1 AND payments.status = 'succeeded' ORDER BY gifts.payment_id",
        )
        .bind(buyer.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let days: i64 = row.try_get("days")?;
                let redeemed_at: Option<i64> = row.try_get("redeemed_at")?;
                Ok(GiftBought {
                    payment: PaymentId(row.try_get("payment_id")?),
                    plan: PlanId(row.try_get("plan")?),
                    days: u32::try_from(days).map_err(|_| StoreError::Corrupt("payments.days"))?,
                    code: row.try_get("code")?,
                    redeemed: redeemed_at.is_some(),
                })
            })
            .collect()
    }

    /// Gifts `user` redeemed, oldest first.
    pub async fn gifts_redeemed(&self, user: UserId) -> Result<Vec<GiftRedeemed>, StoreError> {
        let rows = sqlx::query(
            "SELECT gifts.redeemed_at, payments.plan, payments.days FROM gifts \
             JOIN payments ON payments.id = gifts.payment_id \
             WHERE gifts.redeemed_by = $1 ORDER BY gifts.redeemed_at",
        )
        .bind(user.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let days: i64 = row.try_get("days")?;
                Ok(GiftRedeemed {
                    plan: PlanId(row.try_get("plan")?),
                    days: u32::try_from(days).map_err(|_| StoreError::Corrupt("payments.days"))?,
                    redeemed_at: from_unix_seconds(row.try_get("redeemed_at")?),
                })
            })
            .collect()
    }

    /// How many codes [`Store::expire_gift_codes`] would clear.
    pub async fn count_gift_codes_before(
        &self,
        bought_before: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM gifts WHERE code IS NOT NULL AND payment_id IN \
             (SELECT id FROM payments WHERE created_at < $1)",
        )
        .bind(unix_seconds(bought_before))
        .fetch_one(&self.pool)
        .await?;
        let n: i64 = row.try_get("n")?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Retention: clears the codes of gifts bought before `bought_before` and never redeemed;
    /// returns how many.
    pub async fn expire_gift_codes(
        &self,
        bought_before: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE gifts SET code = NULL WHERE code IS NOT NULL AND payment_id IN \
             (SELECT id FROM payments WHERE created_at < $1)",
        )
        .bind(unix_seconds(bought_before))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}
