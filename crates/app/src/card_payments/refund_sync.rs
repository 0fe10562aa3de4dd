//! Bringing one of our card payments in line with a refund YooKassa reports (`refund.succeeded`),
//! whether made here or in YooKassa's dashboard. As with payments, the notification only names
//! the refund: the refund is fetched from the API, then its payment, and the payment's own
//! `refunded_amount` (the running total of its refunds) is what is recorded, so replays and
//! out-of-order notifications land on the same state.
//!
//! A full refund makes the payment refunded; a partial one only records the amount. Either
//! way the days the payment bought stay, as with the operator's `milly payment refund`:
//! whether to take access away is the operator's call (`milly user extend` with negative days,
//! or blocking), not something a dashboard click does behind their back.

use billing::provider::{RefundState, Refunded};
use domain::PaymentStatus;
use store::RefundMark;
use time::OffsetDateTime;

use super::{CardPayments, PaymentError, SyncOutcome};

/// What a refund notification did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundSync {
    /// The payment is now fully refunded.
    Refunded,
    /// Part of the payment is now recorded as given back.
    PartlyRefunded,
    /// Already recorded, or the refund is not (yet) succeeded.
    Unchanged,
    /// No such refund at YooKassa, or it is about a payment that is not ours: acknowledged and
    /// ignored.
    NotOurs,
    /// YooKassa reports a refunded amount we cannot read (another currency): not recorded.
    Mismatch,
}

impl CardPayments {
    /// Asks the API about YooKassa refund `refund_id` and records it on our payment.
    pub async fn sync_refund(
        &self,
        refund_id: &str,
        now: OffsetDateTime,
    ) -> Result<RefundSync, PaymentError> {
        let Some(refund) = self.provider.refund_status(refund_id).await? else {
            return Ok(RefundSync::NotOurs);
        };
        if refund.state != RefundState::Succeeded {
            return Ok(RefundSync::Unchanged);
        }
        let Some(remote) = self.provider.payment(&refund.payment_id).await? else {
            return Ok(RefundSync::NotOurs);
        };
        let store = self.app.store();
        let Some(mut ours) = store
            .payment_by_provider_id(self.provider_kind(), &remote.id)
            .await?
        else {
            return Ok(RefundSync::NotOurs);
        };
        if ours.status == PaymentStatus::Pending {
            // The refund overtook the payment's own notification: settle the payment first
            // (which, for a payer erased meanwhile, is the whole story).
            if self.apply(&ours, &remote, now).await? == SyncOutcome::RefundedUncreditable {
                return Ok(RefundSync::Refunded);
            }
            match store.payment(ours.id).await? {
                Some(p) => ours = p,
                None => return Ok(RefundSync::NotOurs),
            }
        }
        let total = match remote.refunded {
            Refunded::Nothing => return Ok(RefundSync::Unchanged),
            Refunded::Total(total) if total.currency == ours.amount.currency => total,
            Refunded::Total(_) | Refunded::Unreadable => {
                tracing::error!(
                    "the provider reports a refund in an amount we cannot read; not recorded"
                );
                return Ok(RefundSync::Mismatch);
            }
        };
        Ok(
            // The running total, not this refund's amount: replays land on the same state.
            // The whole amount makes the payment refunded; less only records the amount.
            match store.record_refund(ours.id, total.minor, now).await? {
                RefundMark::Full => {
                    tracing::info!("card payment refunded in full");
                    RefundSync::Refunded
                }
                RefundMark::Partial => {
                    tracing::info!("card payment refunded in part");
                    RefundSync::PartlyRefunded
                }
                RefundMark::Unchanged => RefundSync::Unchanged,
            },
        )
    }
}
