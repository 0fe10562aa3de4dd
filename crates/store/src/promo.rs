//! Promo codes and their redemptions. A redemption (who used which code when) is written in the
//! transaction that credits what the code gave: the free days, or the discounted payment. Its
//! key `(promo_code_id, user_id)` makes a code count once per person however many deliveries,
//! clicks or processes race; the code's `uses` moves in the same transaction. Nothing is
//! reserved before a payment is credited, so a discounted invoice nobody paid uses nothing up.

use domain::{
    from_unix_seconds, unix_seconds, Days, PaymentId, PlanId, Promo, PromoBenefit, PromoCode,
    PromoCodeId, Subscription, UserId,
};
use sqlx::any::AnyRow;
use sqlx::{Any, Row as _, Transaction};
use time::OffsetDateTime;

use crate::error::missing_user;
use crate::subscriptions::grant_in;
use crate::{Store, StoreError};

const PROMO_COLUMNS: &str =
    "id, code, kind, amount, plan, max_uses, valid_until, disabled, uses, created_at";

/// A code about to be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPromo {
    pub code: PromoCode,
    pub benefit: PromoBenefit,
    pub plan: Option<PlanId>,
    pub max_uses: Option<u32>,
    pub valid_until: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

/// What redeeming a free-days code did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaysRedemption {
    /// This call recorded the use and added the days.
    Credited(Subscription),
    /// This person used the code before (or a racing call just did): nothing done.
    AlreadyUsed,
    /// Disabled, expired, used up or not a free-days code by the time of the write.
    Unusable,
}

/// One person's use of a code, for their export.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PromoRedemption {
    pub code: PromoCode,
    #[serde(with = "time::serde::rfc3339")]
    pub redeemed_at: OffsetDateTime,
    /// The payment it discounted; none for free days.
    pub payment_id: Option<PaymentId>,
}

fn promo_from_row(row: &AnyRow) -> Result<Promo, StoreError> {
    let code: String = row.try_get("code")?;
    let kind: String = row.try_get("kind")?;
    let plan: Option<String> = row.try_get("plan")?;
    let max_uses: Option<i64> = row.try_get("max_uses")?;
    let valid_until: Option<i64> = row.try_get("valid_until")?;
    let disabled: i64 = row.try_get("disabled")?;
    let uses: i64 = row.try_get("uses")?;
    Ok(Promo {
        id: PromoCodeId(row.try_get("id")?),
        code: code
            .parse()
            .map_err(|_| StoreError::Corrupt("promo_codes.code"))?,
        benefit: PromoBenefit::from_code(&kind, row.try_get("amount")?)
            .ok_or(StoreError::Corrupt("promo_codes.kind"))?,
        plan: plan.map(PlanId),
        max_uses: max_uses
            .map(u32::try_from)
            .transpose()
            .map_err(|_| StoreError::Corrupt("promo_codes.max_uses"))?,
        valid_until: valid_until.map(from_unix_seconds),
        disabled: disabled != 0,
        uses: u32::try_from(uses).map_err(|_| StoreError::Corrupt("promo_codes.uses"))?,
        created_at: from_unix_seconds(row.try_get("created_at")?),
    })
}

/// Records that `user` used `code` for `payment` (a discounted payment being credited, inside
/// its crediting transaction). A second use by the same person records nothing: the payment was
/// made at the offered price and is credited anyway, and the code still counts once. The count
/// moves even past a limit: money taken at the discounted price is credited as offered.
pub(crate) async fn record_redemption_in(
    tx: &mut Transaction<'static, Any>,
    code: PromoCodeId,
    user: UserId,
    payment: PaymentId,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO promo_redemptions (promo_code_id, user_id, payment_id, redeemed_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (promo_code_id, user_id) DO NOTHING \
         RETURNING promo_code_id",
    )
    .bind(code.0)
    .bind(user.0)
    .bind(payment.0)
    .bind(unix_seconds(now))
    .fetch_optional(&mut **tx)
    .await
    .map_err(missing_user)?;
    if inserted.is_none() {
        return Ok(false);
    }
    sqlx::query("UPDATE promo_codes SET uses = uses + 1 WHERE id = $1")
        .bind(code.0)
        .execute(&mut **tx)
        .await?;
    Ok(true)
}

impl Store {
    /// Makes a code; the same code (in any case) again is [`StoreError::PromoCodeTaken`].
    pub async fn create_promo(&self, new: &NewPromo) -> Result<Promo, StoreError> {
        let (kind, amount) = new.benefit.code();
        let sql = format!(
            "INSERT INTO promo_codes (code, kind, amount, plan, max_uses, valid_until, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {PROMO_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(new.code.as_str())
            .bind(kind)
            .bind(amount)
            .bind(new.plan.as_ref().map(|p| p.0.as_str()))
            .bind(new.max_uses.map(i64::from))
            .bind(new.valid_until.map(unix_seconds))
            .bind(unix_seconds(new.created_at))
            .fetch_one(&self.pool)
            .await
            .map_err(|err| {
                if StoreError::is_unique_violation(&err) {
                    StoreError::PromoCodeTaken
                } else {
                    err.into()
                }
            })?;
        promo_from_row(&row)
    }

    pub async fn promo_by_code(&self, code: &PromoCode) -> Result<Option<Promo>, StoreError> {
        let sql = format!("SELECT {PROMO_COLUMNS} FROM promo_codes WHERE code = $1");
        let row = sqlx::query(&sql)
            .bind(code.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(promo_from_row).transpose()
    }

    pub async fn promo(&self, id: PromoCodeId) -> Result<Option<Promo>, StoreError> {
        let sql = format!("SELECT {PROMO_COLUMNS} FROM promo_codes WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(promo_from_row).transpose()
    }

    /// Every code, oldest first.
    pub async fn list_promos(&self) -> Result<Vec<Promo>, StoreError> {
        let sql = format!("SELECT {PROMO_COLUMNS} FROM promo_codes ORDER BY id");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(promo_from_row).collect()
    }

    /// Stops a code working; `false` when there is no such code or it was off already.
    pub async fn disable_promo(&self, code: &PromoCode) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE promo_codes SET disabled = 1 WHERE code = $1 AND disabled = 0")
                .bind(code.as_str())
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Whether `user` has used code `id`.
    pub async fn has_redeemed(&self, id: PromoCodeId, user: UserId) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT 1 AS one FROM promo_redemptions WHERE promo_code_id = $1 AND user_id = $2",
        )
        .bind(id.0)
        .bind(user.0)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    /// Every code `user` used, oldest first.
    pub async fn redemptions_of(&self, user: UserId) -> Result<Vec<PromoRedemption>, StoreError> {
        let rows = sqlx::query(
            "SELECT promo_codes.code AS code, promo_redemptions.redeemed_at AS redeemed_at, \
             promo_redemptions.payment_id AS payment_id FROM promo_redemptions \
             JOIN promo_codes ON promo_codes.id = promo_redemptions.promo_code_id \
             WHERE promo_redemptions.user_id = $1 ORDER BY promo_redemptions.redeemed_at, code",
        )
        .bind(user.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let code: String = row.try_get("code")?;
                let payment: Option<i64> = row.try_get("payment_id")?;
                Ok(PromoRedemption {
                    code: code
                        .parse()
                        .map_err(|_| StoreError::Corrupt("promo_codes.code"))?,
                    redeemed_at: from_unix_seconds(row.try_get("redeemed_at")?),
                    payment_id: payment.map(PaymentId),
                })
            })
            .collect()
    }

    /// Uses free-days code `id` for `user` and adds its `days` on `plan`, all in one
    /// transaction: the use is recorded once per person (the key), counted only while the code
    /// is on, unexpired at `now` and under its limit (a conditional update), and only then
    /// are the days granted. Any number of racing calls credit once.
    pub async fn redeem_days(
        &self,
        id: PromoCodeId,
        user: UserId,
        plan: PlanId,
        days: Days,
        now: OffsetDateTime,
    ) -> Result<DaysRedemption, StoreError> {
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO promo_redemptions (promo_code_id, user_id, payment_id, redeemed_at) \
             VALUES ($1, $2, NULL, $3) ON CONFLICT (promo_code_id, user_id) DO NOTHING \
             RETURNING promo_code_id",
        )
        .bind(id.0)
        .bind(user.0)
        .bind(unix_seconds(now))
        .fetch_optional(&mut *tx)
        .await
        .map_err(missing_user)?;
        if inserted.is_none() {
            return Ok(DaysRedemption::AlreadyUsed);
        }
        let counted = sqlx::query(
            "UPDATE promo_codes SET uses = uses + 1 WHERE id = $1 AND kind = 'days' \
             AND disabled = 0 AND (max_uses IS NULL OR uses < max_uses) \
             AND (valid_until IS NULL OR valid_until >= $2)",
        )
        .bind(id.0)
        .bind(unix_seconds(now))
        .execute(&mut *tx)
        .await?;
        if counted.rows_affected() == 0 {
            // Dropping the transaction takes the redemption back.
            return Ok(DaysRedemption::Unusable);
        }
        let sub = grant_in(&mut tx, user, plan, days, now).await?;
        tx.commit().await?;
        Ok(DaysRedemption::Credited(sub))
    }
}
