//! A card payment that succeeds after its payer erased their account: nobody can be credited,
//! so the money goes back through the provider's refunds, the payment is marked refunded, and
//! the admins are told (as Telegram Stars payments in the same case are refunded at once).
//!
//! Exactly once whatever is replayed: the payment stays pending until the refund is recorded,
//! so a failed refund is retried by the next notification or reconciler round; attempts about
//! the same state use the same refund idempotence key (the operator's `milly payment refund`
//! uses the same scheme), so racing attempts get YooKassa's first refund back; only what was
//! not already refunded (say, in the dashboard) is asked for; and only the caller whose write
//! moved the payment to refunded tells the admins.

use billing::provider::{PaidCharge, Refunded, RemotePayment};
use domain::{Money, Payment, PaymentId};
use store::RefundMark;
use time::OffsetDateTime;

use super::refund::give_back_rest;
use super::{CardPayments, PaymentError, SyncOutcome};

/// A card payment was refunded because its payer had erased their account; what the admins
/// are told. Only the payment's number and amount: the payer is gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasedPayerRefund {
    pub payment: PaymentId,
    pub amount: Money,
}

impl CardPayments {
    /// Gives back `ours`, which `remote` (fresh from the API) says succeeded, and whose payer
    /// was erased.
    pub(super) async fn refund_uncreditable(
        &self,
        ours: &Payment,
        remote: &RemotePayment,
        now: OffsetDateTime,
    ) -> Result<SyncOutcome, PaymentError> {
        let refunded = match remote.refunded {
            Refunded::Nothing => 0,
            Refunded::Total(total) if total.currency == ours.amount.currency => total.minor,
            Refunded::Total(_) | Refunded::Unreadable => {
                return Err(PaymentError::Unexpected("a refunded amount we cannot read"))
            }
        };
        let remaining = ours.amount.minor - refunded;
        if remaining > 0 {
            let charge = PaidCharge {
                provider_payment_id: &remote.id,
                paid: ours.amount,
                // The payer is erased: only a provider that refunds to the card can help.
                payer: None,
            };
            give_back_rest(self.provider.as_ref(), charge, remaining).await?;
        }
        match self
            .app
            .store()
            .record_refund(ours.id, ours.amount.minor, now)
            .await?
        {
            RefundMark::Full => {
                tracing::warn!(
                    "a card payment succeeded after its payer erased their account; refunded"
                );
                // Nobody listening is fine: the bot may be off; the log line stays.
                let _ = self.erased_refunds.send(ErasedPayerRefund {
                    payment: ours.id,
                    amount: ours.amount,
                });
                Ok(SyncOutcome::RefundedUncreditable)
            }
            RefundMark::Partial | RefundMark::Unchanged => Ok(SyncOutcome::Unchanged),
        }
    }
}
