//! Card payments (YooKassa): opening a checkout's pending payment (or reusing the one the same
//! person opened for the same offer moments ago, so a double click pays once), recording the
//! provider's id once the provider has created it, the return page's secret, and refunds. The
//! payment row exists first, so a crash in between leaves a pending payment nobody could pay
//! (the person never got the payment page), which a reconciler cancels.

use domain::{
    unix_seconds, GiftCode, Payment, PaymentId, PaymentStatus, PromoCodeId, Provider, ReturnToken,
};
use sqlx::Row as _;
use time::OffsetDateTime;

use crate::connect::Backend;
use crate::error::missing_user_or;
use crate::gifts::create_gift_in;
use crate::payments::{payment_from_row, payment_in, unique_to_taken, PAYMENT_COLUMNS};
use crate::{NewPayment, Store, StoreError};

/// A checkout's pending payment and the secret of its return page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutPayment {
    pub payment: Payment,
    pub return_token: ReturnToken,
    /// `true` when this is a payment the same person opened for the same offer moments ago.
    pub reused: bool,
}

/// What recording a refund did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundMark {
    /// The whole amount is now given back: the payment is refunded.
    Full,
    /// Part of the amount is given back; the payment keeps its status.
    Partial,
    /// Already recorded (a replay), or the payment cannot be refunded (canceled).
    Unchanged,
}

impl Store {
    /// Opens a pending payment for `new` with `return_token`, unless the same person has a
    /// pending payment of the same provider, plan, days and amount created since `reuse_since`:
    /// then that one (and its own token) is returned. Concurrent calls for one person are
    /// serialized, so two clicks at once open one payment.
    pub async fn open_checkout_payment(
        &self,
        new: &NewPayment,
        return_token: &ReturnToken,
        reuse_since: OffsetDateTime,
    ) -> Result<CheckoutPayment, StoreError> {
        self.open_checkout(new, return_token, reuse_since, None, None)
            .await
    }

    /// [`Store::open_checkout_payment`] of an offer made with discount code `promo` (the
    /// amount already discounted): only a pending payment with the same code is reused, and
    /// the code's use is recorded when the payment is credited.
    pub async fn open_checkout_payment_with_promo(
        &self,
        new: &NewPayment,
        promo: Option<PromoCodeId>,
        return_token: &ReturnToken,
        reuse_since: OffsetDateTime,
    ) -> Result<CheckoutPayment, StoreError> {
        self.open_checkout(new, return_token, reuse_since, promo, None)
            .await
    }

    /// As [`Store::open_checkout_payment`], for a plan bought as a gift with `code`: reuses only
    /// a pending gift payment of the same offer (whose own code then stays), and a plain
    /// checkout never reuses a gift's.
    pub async fn open_gift_checkout_payment(
        &self,
        new: &NewPayment,
        return_token: &ReturnToken,
        code: &GiftCode,
        reuse_since: OffsetDateTime,
    ) -> Result<CheckoutPayment, StoreError> {
        self.open_checkout(new, return_token, reuse_since, None, Some(code))
            .await
    }

    async fn open_checkout(
        &self,
        new: &NewPayment,
        return_token: &ReturnToken,
        reuse_since: OffsetDateTime,
        promo: Option<PromoCodeId>,
        gift: Option<&GiftCode>,
    ) -> Result<CheckoutPayment, StoreError> {
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            // SQLite's BEGIN IMMEDIATE already serializes writers; here the person's row does.
            let payer = sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE")
                .bind(new.user_id.0)
                .fetch_optional(&mut *tx)
                .await?;
            if payer.is_none() {
                return Err(StoreError::UserNotFound);
            }
        }
        let sql = format!(
            "SELECT {PAYMENT_COLUMNS}, return_token FROM payments \
             WHERE user_id = $1 AND provider = $2 AND plan = $3 AND days = $4 \
             AND amount_minor = $5 AND currency = $6 AND status = 'pending' \
             AND created_at >= $7 AND return_token IS NOT NULL \
             AND COALESCE(promo_code_id, 0) = $8 \
             AND id {} (SELECT payment_id FROM gifts) ORDER BY id DESC LIMIT 1",
            if gift.is_some() { "IN" } else { "NOT IN" }
        );
        let recent = sqlx::query(&sql)
            .bind(new.user_id.0)
            .bind(new.provider.code())
            .bind(new.plan.0.as_str())
            .bind(i64::from(new.days.0))
            .bind(new.amount.minor)
            .bind(new.amount.currency.code())
            .bind(unix_seconds(reuse_since))
            .bind(promo.map_or(0, |p| p.0))
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(row) = recent {
            let token: String = row.try_get("return_token")?;
            let return_token = token
                .parse()
                .map_err(|_| StoreError::Corrupt("payments.return_token"))?;
            return Ok(CheckoutPayment {
                payment: payment_from_row(&row)?,
                return_token,
                reused: true,
            });
        }
        let sql = format!(
            "INSERT INTO payments (user_id, provider, provider_payment_id, plan, days, \
             amount_minor, currency, status, created_at, updated_at, return_token, \
             promo_code_id) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $8, $9, $10) \
             RETURNING {PAYMENT_COLUMNS}"
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
            .bind(return_token.as_str())
            .bind(promo.map(|p| p.0))
            .fetch_one(&mut *tx)
            .await
            .map_err(|err| missing_user_or(err, unique_to_taken))?;
        let payment = payment_from_row(&row)?;
        if let Some(code) = gift {
            create_gift_in(&mut tx, payment.id, code).await?;
        }
        tx.commit().await?;
        Ok(CheckoutPayment {
            payment,
            return_token: return_token.clone(),
            reused: false,
        })
    }

    /// The payment whose return page `token` opens.
    pub async fn payment_by_return_token(
        &self,
        token: &ReturnToken,
    ) -> Result<Option<Payment>, StoreError> {
        let sql = format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE return_token = $1");
        let row = sqlx::query(&sql)
            .bind(token.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(payment_from_row).transpose()
    }

    /// Records that `refunded_total` (minor units, all refunds so far as the provider counts
    /// them) of payment `id` was given back. The whole amount makes a succeeded payment (or a
    /// pending one nobody was credited for) refunded; less only records the amount. The total
    /// never goes down, so replays and late, stale reports change nothing.
    pub async fn record_refund(
        &self,
        id: PaymentId,
        refunded_total: i64,
        now: OffsetDateTime,
    ) -> Result<RefundMark, StoreError> {
        let mut tx = self.begin_write().await?;
        let current = payment_in(&mut tx, id).await?;
        let total = refunded_total
            .clamp(0, current.amount.minor)
            .max(current.refunded_minor);
        let full = total >= current.amount.minor;
        let status = if full && current.status.can_become(PaymentStatus::Refunded) {
            PaymentStatus::Refunded
        } else {
            current.status
        };
        let refundable = matches!(
            current.status,
            PaymentStatus::Pending | PaymentStatus::Succeeded | PaymentStatus::Refunded
        );
        if !refundable || (total == current.refunded_minor && status == current.status) {
            return Ok(RefundMark::Unchanged);
        }
        let moved = sqlx::query(
            "UPDATE payments SET refunded_minor = $1, status = $2, updated_at = $3 \
             WHERE id = $4 AND status = $5 AND refunded_minor = $6",
        )
        .bind(total)
        .bind(status.code())
        .bind(unix_seconds(now))
        .bind(id.0)
        .bind(current.status.code())
        .bind(current.refunded_minor)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() == 0 {
            // Another caller recorded it between our read and our write (PostgreSQL).
            return Ok(RefundMark::Unchanged);
        }
        tx.commit().await?;
        Ok(if current.status == PaymentStatus::Refunded {
            RefundMark::Unchanged
        } else if status == PaymentStatus::Refunded {
            RefundMark::Full
        } else {
            RefundMark::Partial
        })
    }

    /// Records the provider's id on a pending payment that has none yet. Returns `false` when
    /// nothing changed: no such payment, not pending, or an id already recorded. The same
    /// provider id on another payment is [`StoreError::ProviderPaymentIdTaken`].
    pub async fn set_provider_payment_id(
        &self,
        id: PaymentId,
        provider: Provider,
        provider_payment_id: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE payments SET provider_payment_id = $1 \
             WHERE id = $2 AND provider = $3 AND status = 'pending' \
             AND provider_payment_id IS NULL",
        )
        .bind(provider_payment_id)
        .bind(id.0)
        .bind(provider.code())
        .execute(&self.pool)
        .await
        .map_err(|err| {
            if StoreError::is_unique_violation(&err) {
                StoreError::ProviderPaymentIdTaken
            } else {
                err.into()
            }
        })?;
        Ok(done.rows_affected() == 1)
    }
}

#[cfg(test)]
mod tests {
    use domain::{PlanId, ReturnToken};
    use time::OffsetDateTime;

    use super::*;
    use crate::testing::{card_payment, TestDb};
    use crate::NewPayment;

    async fn pending(db: &TestDb, telegram: i64) -> PaymentId {
        let now = OffsetDateTime::now_utc();
        let user = db.user(telegram, now).await;
        let new = card_payment(user.id, None, now);
        db.store.create_payment(&new).await.unwrap().id
    }

    async fn the_provider_id_is_recorded_once_and_never_shared(db: &TestDb) {
        let a = pending(db, 1).await;
        let b = pending(db, 2).await;
        let s = &db.store;
        assert!(s
            .set_provider_payment_id(a, Provider::YooKassa, "yk-1")
            .await
            .unwrap());
        assert!(!s
            .set_provider_payment_id(a, Provider::YooKassa, "yk-2")
            .await
            .unwrap());
        assert!(matches!(
            s.set_provider_payment_id(b, Provider::YooKassa, "yk-1")
                .await,
            Err(StoreError::ProviderPaymentIdTaken)
        ));
        let found = s
            .payment_by_provider_id(Provider::YooKassa, "yk-1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.id, a);
        assert!(!s
            .set_provider_payment_id(PaymentId(9999), Provider::YooKassa, "yk-3")
            .await
            .unwrap());
    }

    /// `user` opens a checkout of `plan` at `at` with a fresh return token, reusing what was
    /// opened since `since`.
    async fn open(
        s: &Store,
        user: domain::UserId,
        plan: &str,
        at: OffsetDateTime,
        since: OffsetDateTime,
    ) -> CheckoutPayment {
        let (new, token) = (offer(user, plan, at), ReturnToken::generate());
        s.open_checkout_payment(&new, &token, since).await.unwrap()
    }

    fn offer(user: domain::UserId, plan: &str, now: OffsetDateTime) -> NewPayment {
        NewPayment {
            plan: PlanId(plan.into()),
            ..card_payment(user, None, now)
        }
    }

    async fn a_second_checkout_moments_later_reuses_the_first(db: &TestDb) {
        let s = &db.store;
        let now = OffsetDateTime::now_utc();
        let u = db.user(1, now).await;
        let since = now - time::Duration::minutes(1);
        let first = open(s, u.id, "month", now, since).await;
        assert!(!first.reused);
        let again = open(s, u.id, "month", now, since).await;
        assert!(again.reused);
        assert_eq!(again.payment.id, first.payment.id);
        assert_eq!(again.return_token, first.return_token);
        // Another plan, or after the window, is a new payment.
        let other = open(s, u.id, "year", now, since).await;
        assert!(!other.reused);
        let later = now + time::Duration::minutes(5);
        let since = later - time::Duration::minutes(1);
        let fresh = open(s, u.id, "month", later, since).await;
        assert!(!fresh.reused);
        assert_ne!(fresh.payment.id, first.payment.id);
        // A payment no longer pending is never reused.
        s.settle_payment(fresh.payment.id, PaymentStatus::Canceled, None, later)
            .await
            .unwrap();
        let after_cancel = open(s, u.id, "month", later, since).await;
        assert!(!after_cancel.reused);
        assert_eq!(s.list_payments(Some(u.id)).await.unwrap().len(), 4);
    }

    async fn concurrent_checkouts_of_one_person_open_one_payment(db: &TestDb) {
        let now = OffsetDateTime::now_utc();
        let u = db.user(2, now).await;
        let mut racing = Vec::new();
        for _ in 0..8 {
            let store = db.store.clone();
            racing.push(tokio::spawn(async move {
                let since = now - time::Duration::minutes(1);
                open(&store, u.id, "month", now, since).await.payment.id
            }));
        }
        let mut ids = Vec::new();
        for r in racing {
            ids.push(r.await.unwrap());
        }
        ids.dedup();
        assert_eq!(ids.len(), 1, "{ids:?}");
        assert_eq!(db.store.list_payments(Some(u.id)).await.unwrap().len(), 1);
    }

    async fn the_return_token_finds_its_payment_until_the_payer_is_erased(db: &TestDb) {
        let s = &db.store;
        let now = OffsetDateTime::now_utc();
        let u = db.user(3, now).await;
        let token = ReturnToken::generate();
        let opened = s
            .open_checkout_payment(&offer(u.id, "month", now), &token, now)
            .await
            .unwrap();
        let found = s.payment_by_return_token(&token).await.unwrap().unwrap();
        assert_eq!(found.id, opened.payment.id);
        assert!(s
            .payment_by_return_token(&ReturnToken::generate())
            .await
            .unwrap()
            .is_none());
        s.erase_user(u.id).await.unwrap();
        assert!(s.payment_by_return_token(&token).await.unwrap().is_none());
        assert!(
            s.payment(opened.payment.id).await.unwrap().is_some(),
            "the record stays"
        );
    }

    async fn refunds_are_recorded_by_their_running_total(db: &TestDb) {
        let s = &db.store;
        let now = OffsetDateTime::now_utc();
        let id = pending(db, 4).await;
        s.settle_payment(id, PaymentStatus::Succeeded, None, now)
            .await
            .unwrap();
        assert_eq!(
            s.record_refund(id, 5_000, now).await.unwrap(),
            RefundMark::Partial
        );
        assert_eq!(
            s.record_refund(id, 5_000, now).await.unwrap(),
            RefundMark::Unchanged
        );
        assert_eq!(
            s.record_refund(id, 1_000, now).await.unwrap(),
            RefundMark::Unchanged,
            "a stale total never lowers it"
        );
        let p = s.payment(id).await.unwrap().unwrap();
        assert_eq!(
            (p.status, p.refunded_minor),
            (PaymentStatus::Succeeded, 5_000)
        );
        assert_eq!(
            s.record_refund(id, 19_900, now).await.unwrap(),
            RefundMark::Full
        );
        assert_eq!(
            s.record_refund(id, 19_900, now).await.unwrap(),
            RefundMark::Unchanged
        );
        let p = s.payment(id).await.unwrap().unwrap();
        assert_eq!(
            (p.status, p.refunded_minor),
            (PaymentStatus::Refunded, 19_900)
        );

        let canceled = pending(db, 5).await;
        s.settle_payment(canceled, PaymentStatus::Canceled, None, now)
            .await
            .unwrap();
        assert_eq!(
            s.record_refund(canceled, 19_900, now).await.unwrap(),
            RefundMark::Unchanged
        );
        assert!(matches!(
            s.record_refund(PaymentId(9999), 1, now).await,
            Err(StoreError::PaymentNotFound)
        ));
    }

    crate::backend_tests!(
        the_provider_id_is_recorded_once_and_never_shared,
        a_second_checkout_moments_later_reuses_the_first,
        concurrent_checkouts_of_one_person_open_one_payment,
        the_return_token_finds_its_payment_until_the_payer_is_erased,
        refunds_are_recorded_by_their_running_total,
    );
}
