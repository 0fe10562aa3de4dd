//! Acting on a YooKassa notification that `billing` received (sender checked, body parsed). It
//! only names a payment or a refund; what is done comes from the API's answer about it.

use billing::Notice;
use time::OffsetDateTime;

use super::{CardPayments, RefundSync, SyncOutcome};

/// What became of a notification, and so what YooKassa is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotificationOutcome {
    /// Acted on what the API says about the payment (stop retrying).
    Processed(SyncOutcome),
    /// Acted on what the API says about the refund and its payment (stop retrying).
    Refund(RefundSync),
    /// About something we do not track (other events and objects) (stop retrying).
    Ignored,
    /// The API knows no such payment: forged or mistyped (YooKassa itself never sends these,
    /// and gives up on its own after a day).
    UnknownPayment,
    /// The API could not be asked right now (YooKassa retries, the reconciler too).
    TryLater,
}

impl CardPayments {
    /// Settles whatever `notice` names as the API says.
    pub async fn handle_notice(&self, notice: Notice, now: OffsetDateTime) -> NotificationOutcome {
        let id = match notice {
            Notice::Ignored => return NotificationOutcome::Ignored,
            Notice::Refund { id } => {
                // Unknown refunds and refunds of payments not ours are acknowledged and change
                // nothing.
                return match self.sync_refund(&id, now).await {
                    Ok(outcome) => NotificationOutcome::Refund(outcome),
                    Err(e) => {
                        tracing::warn!(error = %e, "refund notification not processed; YooKassa will retry");
                        NotificationOutcome::TryLater
                    }
                };
            }
            Notice::Payment { id } => id,
        };
        match self.sync_provider_payment(&id, now).await {
            Ok(SyncOutcome::Unknown) => {
                tracing::warn!("notification about a payment YooKassa does not know");
                NotificationOutcome::UnknownPayment
            }
            Ok(outcome) => NotificationOutcome::Processed(outcome),
            Err(e) => {
                tracing::warn!(error = %e, "notification not processed; YooKassa will retry");
                NotificationOutcome::TryLater
            }
        }
    }
}
