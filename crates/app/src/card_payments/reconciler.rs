//! The reconciler: every so often, asks YooKassa about card payments still pending here, so a
//! lost notification or a crash between YooKassa's success and our credit costs nobody their
//! days. Crediting is exactly-once in the store, so racing a webhook is harmless.

use std::time::Duration;

use domain::{Payment, PaymentId, PaymentStatus};
use store::Settlement;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use super::{CardPayments, PaymentError, SyncOutcome};

/// Payments younger than this are left to their notification.
const GRACE: time::Duration = time::Duration::seconds(30);

/// A pending payment with no YooKassa id this old never reached a payment page: cancel it.
const UNCREATED_AFTER: time::Duration = time::Duration::minutes(15);

/// How many payments one round asks about at most, so a backlog cannot hammer the API.
const MAX_PER_ROUND: usize = 200;

/// What one round did, as counts (never which payments or whose).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    pub checked: usize,
    pub credited: usize,
    pub canceled: usize,
    /// Succeeded after the payer erased their account, and given back.
    pub refunded: usize,
    pub still_pending: usize,
    pub failed: usize,
}

impl CardPayments {
    /// One round: every payment with the provider pending since before `now - GRACE`.
    pub async fn reconcile_once(
        &self,
        now: OffsetDateTime,
    ) -> Result<ReconcileReport, PaymentError> {
        let pending = self
            .app
            .store()
            .pending_payments(self.provider_kind(), now - GRACE)
            .await?;
        let mut report = ReconcileReport::default();
        for payment in pending.into_iter().take(MAX_PER_ROUND) {
            report.checked += 1;
            match self.reconcile_payment(&payment, now).await {
                Ok(SyncOutcome::Credited(_) | SyncOutcome::GiftPaid) => report.credited += 1,
                Ok(SyncOutcome::Canceled) => report.canceled += 1,
                Ok(SyncOutcome::RefundedUncreditable) => report.refunded += 1,
                Ok(_) => report.still_pending += 1,
                Err(e) if e.is_transient() => {
                    // YooKassa is struggling: stop this round instead of piling on.
                    report.failed += 1;
                    tracing::warn!(error = %e, "reconciler paused until the next round");
                    break;
                }
                Err(e) => {
                    report.failed += 1;
                    tracing::warn!(error = %e, "reconciler could not check a card payment");
                }
            }
        }
        Ok(report)
    }

    async fn reconcile_payment(
        &self,
        payment: &Payment,
        now: OffsetDateTime,
    ) -> Result<SyncOutcome, PaymentError> {
        match &payment.provider_payment_id {
            Some(provider_id) => self.sync_provider_payment(provider_id, now).await,
            None if now - payment.created_at >= UNCREATED_AFTER => {
                if self.app.store().is_open_renewal_attempt(payment.id).await? {
                    // Its charge may have reached YooKassa with the answer lost: the renewal
                    // job makes the same attempt again under the same key; canceling it here
                    // would let a new attempt charge the card a second time.
                    return Ok(SyncOutcome::Unchanged);
                }
                self.cancel_uncreated(payment.id, now).await?;
                Ok(SyncOutcome::Canceled)
            }
            None => Ok(SyncOutcome::Unchanged),
        }
    }

    /// Cancels a pending card payment YooKassa never created (or whose creation we never
    /// heard about): nobody got a payment page for it, so nobody can pay it.
    pub(super) async fn cancel_uncreated(
        &self,
        payment: PaymentId,
        now: OffsetDateTime,
    ) -> Result<Settlement, PaymentError> {
        Ok(self
            .app
            .store()
            .settle_payment(payment, PaymentStatus::Canceled, None, now)
            .await?)
    }
}

/// Runs [`CardPayments::reconcile_once`] now and every `interval` until `shutdown`.
pub async fn run_reconciler(cards: CardPayments, interval: Duration, shutdown: CancellationToken) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let round = tokio::select! {
            () = shutdown.cancelled() => return,
            r = cards.reconcile_once(OffsetDateTime::now_utc()) => r,
        };
        match round {
            Ok(r) if r.checked > 0 => tracing::info!(
                checked = r.checked,
                credited = r.credited,
                canceled = r.canceled,
                refunded = r.refunded,
                still_pending = r.still_pending,
                failed = r.failed,
                "card payments reconciled"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "card payment reconciliation failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn uncreated_payments_wait_longer_than_a_checkout_can_take() {
        let checkout_worst_case = time::Duration::try_from(billing::API_TIMEOUT * 2).unwrap();
        assert!(super::UNCREATED_AFTER > checkout_worst_case + super::GRACE);
    }
}
