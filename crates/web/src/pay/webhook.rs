//! `POST /webhooks/yookassa`: the provider (`billing`) decides whether the notification is
//! genuine and reads the body's event and id, `app` settles what the API says about it; here
//! is only what YooKassa is told.

use std::net::SocketAddr;

use app::NotificationOutcome;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use billing::provider::Incoming;
use billing::Refused;
use time::OffsetDateTime;

use crate::site::Site;

pub async fn receive(
    State(site): State<Site>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let Some(routes) = site.card_routes() else {
        return StatusCode::NOT_FOUND;
    };
    let incoming = Incoming {
        peer: peer.ip(),
        headers: &headers,
        body: &body,
    };
    let notice = match routes.cards.receive(incoming) {
        Ok(notice) => notice,
        Err(Refused::ForbiddenSource) => {
            tracing::warn!("notification refused: sender outside YooKassa's networks");
            return StatusCode::FORBIDDEN;
        }
        Err(Refused::Malformed) => return StatusCode::BAD_REQUEST,
    };
    let outcome = routes
        .cards
        .handle_notice(notice, OffsetDateTime::now_utc())
        .await;
    status(&outcome)
}

/// 200 stops YooKassa's retries; 503 asks for them; 404 is for ids YooKassa never issued.
fn status(outcome: &NotificationOutcome) -> StatusCode {
    match outcome {
        NotificationOutcome::Processed(_)
        | NotificationOutcome::Refund(_)
        | NotificationOutcome::Ignored => StatusCode::OK,
        NotificationOutcome::UnknownPayment => StatusCode::NOT_FOUND,
        NotificationOutcome::TryLater => StatusCode::SERVICE_UNAVAILABLE,
    }
}
