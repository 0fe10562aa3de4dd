//! What the page YooKassa sends the person back to shows: the real state of the payment whose
//! return token the link carries, and nothing about who paid or what.

use domain::{PaymentStatus, ReturnToken};
use time::OffsetDateTime;

use super::{CardPayments, PaymentError};

impl CardPayments {
    /// Whether the card payment with return token `token` bought a gift.
    pub async fn is_gift_return(&self, token: &ReturnToken) -> Result<bool, PaymentError> {
        let store = self.app.store();
        let Some(payment) = store.payment_by_return_token(token).await? else {
            return Ok(false);
        };
        Ok(store.gift_of_payment(payment.id).await?.is_some())
    }

    /// The status of the card payment with return token `token`, `None` when there is none.
    /// If it is still pending here, YooKassa is asked first, so the person sees the result even
    /// before the notification arrives (YooKassa not answering leaves it pending).
    pub async fn status_for_return(
        &self,
        token: &ReturnToken,
        now: OffsetDateTime,
    ) -> Result<Option<PaymentStatus>, PaymentError> {
        let store = self.app.store();
        let payment = match store.payment_by_return_token(token).await? {
            Some(p) if p.provider == self.provider_kind() => p,
            _ => return Ok(None),
        };
        if payment.status != PaymentStatus::Pending {
            return Ok(Some(payment.status));
        }
        if let Some(provider_id) = &payment.provider_payment_id {
            if let Err(e) = self.sync_provider_payment(provider_id, now).await {
                tracing::warn!(error = %e, "return page could not ask YooKassa");
            }
        }
        Ok(store.payment(payment.id).await?.map(|p| p.status))
    }
}
