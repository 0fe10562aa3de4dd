//! Refunds for the operator: YooKassa payments through `POST /v3/refunds`, Telegram Stars
//! payments through the Bot API's `refundStarPayment`. Either way the payment is then marked
//! refunded; the days it bought are left alone (the operator decides about access).

use billing::amount;
use billing::wire::{Amount, CreateRefund, RefundObject};
use billing::YooKassa;
use domain::{Money, PaymentId, PaymentStatus, Provider};
use time::OffsetDateTime;

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
                let client = YooKassa::new(&self.settings().yookassa)?;
                // What is left: part of it may have been refunded in YooKassa's dashboard.
                // Running the command again after a timeout cannot refund twice: it gets the
                // first refund back (see `refund_key`).
                let remaining = payment.amount.minor - payment.refunded_minor;
                let refund =
                    give_back_rest(&client, &provider_id, payment.amount, remaining).await?;
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
                    &self.settings().bot_api,
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

/// Asks YooKassa to give back `remaining_minor` of the payment `provider_payment_id` that took
/// `paid`; refused unless YooKassa made (or is making) the refund.
pub(super) async fn give_back_rest(
    client: &YooKassa,
    provider_payment_id: &str,
    paid: Money,
    remaining_minor: i64,
) -> Result<RefundObject, PaymentError> {
    let request = CreateRefund {
        payment_id: provider_payment_id.to_owned(),
        amount: Amount {
            value: amount::to_value(Money {
                minor: remaining_minor,
                currency: paid.currency,
            }),
            currency: paid.currency.code().to_owned(),
        },
        description: None,
    };
    let key = refund_key(provider_payment_id, remaining_minor, paid.minor);
    let refund = client.refund(&request, &key).await?;
    if !matches!(refund.status.as_str(), "succeeded" | "pending") {
        return Err(PaymentError::Unexpected("a refund YooKassa canceled"));
    }
    Ok(refund)
}

/// The refund idempotence key of one YooKassa payment and what is left of it to give back:
/// everyone asking about the same state (racing notifications, the reconciler, the operator's
/// command run twice) asks for one refund, and a payment already refunded in part (in the
/// dashboard) gets a key of its own for the rest.
fn refund_key(provider_payment_id: &str, remaining_minor: i64, amount_minor: i64) -> String {
    if remaining_minor == amount_minor {
        format!("refund-{provider_payment_id}")
    } else {
        format!("refund-{provider_payment_id}-{remaining_minor}")
    }
}
