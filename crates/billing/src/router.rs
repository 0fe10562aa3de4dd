//! The HTTP side of card payments: YooKassa's notifications, the checkout entry the bot links
//! to, and the page YooKassa sends the person back to. Serve with `web::server` (or anything
//! that provides `ConnectInfo<SocketAddr>`): the sender and the rate limits start from the
//! connection's address.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Form, Query, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use client_identity::RateLimiter;
use domain::{PaymentStatus, Provider, ReturnToken, SubscriptionToken};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::checkout::CheckoutError;
use crate::pages;
use crate::rate_limit::{CHECKOUT_LIMIT, RETURN_LIMIT, WEBHOOK_LIMIT};
use crate::Billing;

pub const WEBHOOK_PATH: &str = "/webhooks/yookassa";
const CHECKOUT_PATH: &str = app::CARD_CHECKOUT_PATH;
pub(crate) const RETURN_PATH: &str = "/pay/return";

/// YooKassa's notifications are a few kilobytes; anything far larger is not one.
const WEBHOOK_BODY_LIMIT: usize = 64 * 1024;
/// The checkout form holds a token and a plan id: a few dozen bytes.
const CHECKOUT_FORM_LIMIT: usize = 4 * 1024;

struct Routes {
    billing: Billing,
    webhook_limit: RateLimiter,
    checkout_limit: RateLimiter,
    return_limit: RateLimiter,
}

/// `POST /webhooks/yookassa`; `GET /pay/checkout?t=TOKEN&plan=PLAN` (a page with a button)
/// and `POST /pay/checkout` (form fields `t`, `plan`: pays); `GET /pay/return?t=RETURN_TOKEN`.
pub fn router(billing: Billing) -> Router {
    let routes = Arc::new(Routes {
        billing,
        webhook_limit: RateLimiter::new(WEBHOOK_LIMIT),
        checkout_limit: RateLimiter::new(CHECKOUT_LIMIT),
        return_limit: RateLimiter::new(RETURN_LIMIT),
    });
    Router::new()
        .route(
            WEBHOOK_PATH,
            post(webhook).layer(DefaultBodyLimit::max(WEBHOOK_BODY_LIMIT)),
        )
        .route(
            CHECKOUT_PATH,
            get(checkout_page)
                .post(checkout)
                .layer(DefaultBodyLimit::max(CHECKOUT_FORM_LIMIT)),
        )
        .route(RETURN_PATH, get(payment_return))
        .with_state(routes)
}

async fn webhook(
    State(routes): State<Arc<Routes>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let client = routes.billing.source.identity.key(peer.ip(), &headers);
    if !routes.webhook_limit.allow(client, Instant::now()) {
        return StatusCode::TOO_MANY_REQUESTS;
    }
    let outcome = routes
        .billing
        .handle_notification(peer.ip(), &headers, &body, OffsetDateTime::now_utc())
        .await;
    StatusCode::from_u16(outcome.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The checkout link's parameters, in the query of its GET and the form of its POST.
#[derive(Deserialize)]
struct CheckoutParams {
    #[serde(default)]
    t: String,
    #[serde(default)]
    plan: String,
}

/// `GET`: what the link offers and a button, nothing stored and nothing asked of YooKassa, so
/// link previewers and prefetchers open it harmlessly.
async fn checkout_page(
    State(routes): State<Arc<Routes>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<CheckoutParams>,
) -> Response {
    // A page view, read only, like the return page: it spends from that budget, not from the
    // one for creating payments.
    let client = routes.billing.source.identity.key(peer.ip(), &headers);
    if !routes.return_limit.allow(client, Instant::now()) {
        return pages::too_many();
    }
    let Ok(token) = q.t.parse::<SubscriptionToken>() else {
        return pages::refused();
    };
    match routes.billing.app().card_offer(&token, &q.plan).await {
        Ok(Ok((plan, _))) => match plan.price_rub {
            Some(price) => pages::checkout_offer(token.as_str(), &plan, price),
            None => pages::not_offered(),
        },
        Ok(Err(app::CardRefusal::NotOffered)) => pages::not_offered(),
        Ok(Err(app::CardRefusal::NotAllowed)) => pages::refused(),
        Err(e) => {
            tracing::warn!(error = %e, "checkout page could not read the store");
            pages::unavailable()
        }
    }
}

/// `POST` (the page's button): opens the payment and redirects to YooKassa's payment page.
async fn checkout(
    State(routes): State<Arc<Routes>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(q): Form<CheckoutParams>,
) -> Response {
    let client = routes.billing.source.identity.key(peer.ip(), &headers);
    if !routes.checkout_limit.allow(client, Instant::now()) {
        return pages::too_many();
    }
    let Ok(token) = q.t.parse::<SubscriptionToken>() else {
        return pages::refused();
    };
    match routes
        .billing
        .start_checkout(&token, &q.plan, OffsetDateTime::now_utc())
        .await
    {
        Ok(url) => match HeaderValue::from_str(&url) {
            Ok(location) => {
                let mut r = StatusCode::SEE_OTHER.into_response();
                r.headers_mut().insert(LOCATION, location);
                pages::harden(r)
            }
            Err(_) => pages::unavailable(),
        },
        Err(CheckoutError::Refused(app::CardRefusal::NotOffered)) => pages::not_offered(),
        Err(CheckoutError::Refused(app::CardRefusal::NotAllowed)) => pages::refused(),
        Err(e) => {
            tracing::warn!(error = %e, "card checkout failed");
            pages::unavailable()
        }
    }
}

#[derive(Deserialize)]
struct ReturnQuery {
    #[serde(default)]
    t: Option<String>,
}

/// Shows the real state of the payment whose return token the link carries: if it is still
/// pending here, YooKassa is asked first, so the person sees the result even before the
/// notification arrives. Only the state is shown, nothing about who paid or what. Links
/// without a token (the old `?payment=NUMBER`) get a neutral page whatever they name.
async fn payment_return(
    State(routes): State<Arc<Routes>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<ReturnQuery>,
) -> Response {
    let client = routes.billing.source.identity.key(peer.ip(), &headers);
    if !routes.return_limit.allow(client, Instant::now()) {
        return pages::too_many();
    }
    let Some(given) = q.t else {
        return pages::return_neutral();
    };
    let Ok(token) = given.parse::<ReturnToken>() else {
        return pages::not_found();
    };
    let store = routes.billing.app().store();
    let payment = match store.payment_by_return_token(&token).await {
        Ok(Some(p)) if p.provider == Provider::YooKassa => p,
        Ok(_) => return pages::not_found(),
        Err(e) => {
            tracing::warn!(error = %e, "return page could not read the store");
            return pages::unavailable();
        }
    };
    if payment.status != PaymentStatus::Pending {
        return pages::payment_status(Some(payment.status));
    }
    if let Some(provider_id) = &payment.provider_payment_id {
        if let Err(e) = routes
            .billing
            .sync_provider_payment(provider_id, OffsetDateTime::now_utc())
            .await
        {
            tracing::warn!(error = %e, "return page could not ask YooKassa");
        }
    }
    match store.payment(payment.id).await {
        Ok(p) => pages::payment_status(p.map(|p| p.status)),
        Err(_) => pages::unavailable(),
    }
}
