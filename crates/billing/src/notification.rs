//! Incoming YooKassa notifications. Nothing in the body is believed: it only names a payment
//! (or a refund), which is then looked up through the API.

use std::net::IpAddr;

use axum::http::HeaderMap;
use time::OffsetDateTime;

use crate::{Billing, RefundSync, SyncOutcome};

pub mod body;

use body::{read_notification, NotificationBody};

/// What became of a notification, and so what YooKassa is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotificationOutcome {
    /// The sender is not YooKassa (403).
    ForbiddenSource,
    /// Not a notification at all (400).
    Malformed,
    /// Acted on what the API says about the payment (200: stop retrying).
    Processed(SyncOutcome),
    /// Acted on what the API says about the refund and its payment (200: stop retrying).
    Refund(RefundSync),
    /// About something we do not track (other events and objects) (200: stop retrying).
    Ignored,
    /// The API knows no such payment: forged or mistyped (404; YooKassa itself never sends
    /// these, and gives up on its own after a day).
    UnknownPayment,
    /// The API could not be asked right now (503: YooKassa retries, the reconciler too).
    TryLater,
}

impl NotificationOutcome {
    pub fn http_status(&self) -> u16 {
        match self {
            NotificationOutcome::ForbiddenSource => 403,
            NotificationOutcome::Malformed => 400,
            NotificationOutcome::UnknownPayment => 404,
            NotificationOutcome::Processed(_)
            | NotificationOutcome::Refund(_)
            | NotificationOutcome::Ignored => 200,
            NotificationOutcome::TryLater => 503,
        }
    }
}

impl Billing {
    /// Handles one notification from `peer` (the TCP peer; see [`crate::SourcePolicy`] for
    /// proxies). Only the event name and the object's id are read from `body`.
    pub async fn handle_notification(
        &self,
        peer: IpAddr,
        headers: &HeaderMap,
        body: &[u8],
        now: OffsetDateTime,
    ) -> NotificationOutcome {
        if !self.source.admits(peer, headers) {
            tracing::warn!("notification refused: sender outside YooKassa's networks");
            return NotificationOutcome::ForbiddenSource;
        }
        let id = match read_notification(body) {
            NotificationBody::Malformed => return NotificationOutcome::Malformed,
            NotificationBody::Ignored => return NotificationOutcome::Ignored,
            NotificationBody::Refund { id } => {
                // Unknown refunds and refunds of payments not ours are acknowledged (200) and
                // change nothing.
                return match self.sync_refund(&id, now).await {
                    Ok(outcome) => NotificationOutcome::Refund(outcome),
                    Err(e) => {
                        tracing::warn!(error = %e, "refund notification not processed; YooKassa will retry");
                        NotificationOutcome::TryLater
                    }
                };
            }
            NotificationBody::Payment { id } => id,
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
