//! Refunds for the operator: YooKassa payments through `POST /v3/refunds`, Telegram Stars
//! payments through the Bot API's `refundStarPayment`. Either way the payment is then marked
//! refunded; the days it bought are left alone (the operator decides about access).

use billing::amount;
use billing::wire::{Amount, CreateRefund};
use billing::YooKassa;
use domain::{PaymentId, PaymentStatus, Provider};
use time::OffsetDateTime;

use super::erased_payer::refund_key;
use super::PaymentError;
use crate::App;

/// What a refund did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundOutcome {
    /// YooKassa accepted the refund (`status` is YooKassa's: `succeeded` or `pending`).
    YooKassa { refund_id: String, status: String },
    /// Telegram returned the Stars to the payer.
    Stars,
}

impl App {
    /// Refunds payment `id` in full with its provider and marks it refunded.
    pub async fn refund_payment(
        &self,
        id: PaymentId,
        now: OffsetDateTime,
    ) -> Result<RefundOutcome, PaymentError> {
        let payment = self
            .store()
            .payment(id)
            .await?
            .ok_or(PaymentError::PaymentNotFound)?;
        if payment.status != PaymentStatus::Succeeded {
            return Err(PaymentError::NotRefundable(payment.status));
        }
        let provider_id = payment
            .provider_payment_id
            .clone()
            .ok_or(PaymentError::Unexpected(
                "a paid payment without the provider's id",
            ))?;
        let outcome = match payment.provider {
            Provider::YooKassa => {
                // The operator's command may run where card payments are on but nothing serves.
                let client = YooKassa::from_config(&self.config().yookassa)?;
                // What is left: part of it may have been refunded in YooKassa's dashboard.
                let remaining = payment.amount.minor - payment.refunded_minor;
                let request = CreateRefund {
                    payment_id: provider_id.clone(),
                    amount: Amount {
                        value: amount::to_value(domain::Money {
                            minor: remaining,
                            currency: payment.amount.currency,
                        }),
                        currency: payment.amount.currency.code().to_owned(),
                    },
                    description: None,
                };
                // One key per payment and remainder: running the command again after a timeout
                // cannot refund twice, it gets the first refund back.
                let key = refund_key(&provider_id, remaining, payment.amount.minor);
                let refund = client.refund(&request, &key).await?;
                if !matches!(refund.status.as_str(), "succeeded" | "pending") {
                    return Err(PaymentError::Unexpected("a refund YooKassa canceled"));
                }
                RefundOutcome::YooKassa {
                    refund_id: refund.id,
                    status: refund.status,
                }
            }
            Provider::TelegramStars => {
                let user = match payment.user_id {
                    Some(u) => self.store().user(u).await?,
                    None => None,
                };
                let user = user.ok_or(PaymentError::PayerErased)?;
                billing::telegram_stars::refund_star_payment(
                    &self.config().telegram,
                    user.telegram_id.0,
                    &provider_id,
                )
                .await?;
                RefundOutcome::Stars
            }
            Provider::Manual => return Err(PaymentError::ProviderNotRefundable(payment.provider)),
        };
        self.store()
            .settle_payment(id, PaymentStatus::Refunded, None, now)
            .await?;
        tracing::info!(provider = payment.provider.code(), "payment refunded");
        Ok(outcome)
    }
}
