//! Card payments (YooKassa): recording the provider's id on a pending payment once the provider
//! has created it. The payment row exists first, so a crash in between leaves a pending payment
//! nobody could pay (the person never got the payment page), which a reconciler cancels.

use domain::{PaymentId, Provider};

use crate::{Store, StoreError};

impl Store {
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
    use domain::{Days, Money, NewUser, PlanId, TelegramId};
    use time::OffsetDateTime;

    use super::*;
    use crate::testing::TestDb;
    use crate::NewPayment;

    async fn pending(store: &Store, telegram: i64) -> PaymentId {
        let now = OffsetDateTime::now_utc();
        let user = store
            .create_user(&NewUser::from_telegram_id(TelegramId(telegram)), now)
            .await
            .unwrap();
        let new = NewPayment {
            user_id: user.id,
            provider: Provider::YooKassa,
            provider_payment_id: None,
            plan: PlanId("month".into()),
            days: Days(30),
            amount: Money::rub_kopecks(19_900),
            created_at: now,
        };
        store.create_payment(&new).await.unwrap().id
    }

    async fn the_provider_id_is_recorded_once_and_never_shared(db: &TestDb) {
        let a = pending(&db.store, 1).await;
        let b = pending(&db.store, 2).await;
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

    crate::backend_tests!(the_provider_id_is_recorded_once_and_never_shared);
}
