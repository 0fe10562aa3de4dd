//! Refunds for the operator, through whichever provider took the payment (`billing`'s
//! [`PaymentProvider`]: YooKassa's `POST /v3/refunds`, Telegram's `refundStarPayment`). Either
//! way the payment is then marked refunded; the days it bought are left alone (the operator
//! decides about access).

use std::sync::Arc;

use billing::provider::{PaidCharge, RefundState, RemoteRefund};
use billing::{PaymentProvider, TelegramStars, YooKassa};
use domain::{Money, PaymentId, PaymentStatus, Provider};
use time::OffsetDateTime;

use super::PaymentError;
use crate::App;

/// What a refund did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundOutcome {
    pub provider: Provider,
    /// The provider's id of the refund, where it gives one (YooKassa does, Telegram does not).
    pub refund_id: Option<String>,
    /// Succeeded, or still pending at the provider (never canceled: that is an error).
    pub state: RefundState,
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
        let provider = self.refunds_with(payment.provider)?;
        let payer = match payment.user_id {
            Some(u) => self.store().user(u).await?.map(|u| u.telegram_id),
            None => None,
        };
        if payment.provider == Provider::TelegramStars && payer.is_none() {
            return Err(PaymentError::PayerErased);
        }
        let charge = PaidCharge {
            provider_payment_id: &provider_id,
            paid: payment.amount,
            payer,
        };
        // What is left: part of it may have been refunded in the provider's dashboard. Running
        // the command again after a timeout cannot refund twice: it gets the first refund back
        // (see `refund_key`).
        let remaining = payment.amount.minor - payment.refunded_minor;
        let refund = give_back_rest(provider.as_ref(), charge, remaining).await?;
        self.store()
            .settle_payment(id, PaymentStatus::Refunded, None, now)
            .await?;
        tracing::info!(provider = payment.provider.code(), "payment refunded");
        Ok(RefundOutcome {
            provider: payment.provider,
            refund_id: refund.id,
            state: refund.state,
        })
    }

    /// The provider that gives back payments made with `provider`. Built on demand: the
    /// operator's command may run where nothing serves.
    fn refunds_with(&self, provider: Provider) -> Result<Arc<dyn PaymentProvider>, PaymentError> {
        Ok(match provider {
            Provider::YooKassa => Arc::new(YooKassa::new(&self.settings().yookassa)?),
            Provider::TelegramStars => {
                Arc::new(TelegramStars::new(self.settings().bot_api.clone()))
            }
            Provider::Manual => return Err(PaymentError::ProviderNotRefundable(provider)),
        })
    }
}

/// Asks `provider` to give back `remaining_minor` of `charge`; refused unless the provider made
/// (or is making) the refund.
pub(super) async fn give_back_rest(
    provider: &dyn PaymentProvider,
    charge: PaidCharge<'_>,
    remaining_minor: i64,
) -> Result<RemoteRefund, PaymentError> {
    let amount = Money {
        minor: remaining_minor,
        currency: charge.paid.currency,
    };
    let key = refund_key(
        charge.provider_payment_id,
        remaining_minor,
        charge.paid.minor,
    );
    let refund = provider.refund(charge, amount, &key).await?;
    if refund.state == RefundState::Canceled {
        return Err(PaymentError::Unexpected("a refund the provider canceled"));
    }
    Ok(refund)
}

/// The refund idempotence key of one payment and what is left of it to give back: everyone
/// asking about the same state (racing notifications, the reconciler, the operator's command
/// run twice) asks for one refund, and a payment already refunded in part (in the dashboard)
/// gets a key of its own for the rest.
fn refund_key(provider_payment_id: &str, remaining_minor: i64, amount_minor: i64) -> String {
    if remaining_minor == amount_minor {
        format!("refund-{provider_payment_id}")
    } else {
        format!("refund-{provider_payment_id}-{remaining_minor}")
    }
}
