//! The checkout link the bot gives: `GET` shows what it offers and a button, with nothing stored
//! and nothing asked of YooKassa, so link previewers and prefetchers open it harmlessly; `POST`
//! (the button) opens the payment and redirects to YooKassa's payment page.

use app::{CardRefusal, CheckoutError};
use axum::extract::{Form, Query, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::SubscriptionToken;
use serde::Deserialize;
use time::OffsetDateTime;

use super::page::{self, no_store};
use crate::lang::RequestLang;
use crate::site::Site;
use crate::text::pay::{NOT_OFFERED, REFUSED, UNAVAILABLE};

/// The checkout link's parameters, in the query of its GET and the form of its POST.
#[derive(Deserialize)]
pub struct CheckoutParams {
    #[serde(default)]
    t: String,
    #[serde(default)]
    plan: String,
    /// The checkout form's auto-renewal checkbox: `on` only when the person ticked it.
    #[serde(default)]
    auto_renew: Option<String>,
}

pub async fn offer(
    State(site): State<Site>,
    lang: RequestLang,
    Query(q): Query<CheckoutParams>,
) -> Response {
    let Some(routes) = site.card_routes() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Ok(token) = q.t.parse::<SubscriptionToken>() else {
        return page::show(&site, lang, StatusCode::FORBIDDEN, &REFUSED);
    };
    match routes.cards.app().card_offer(&token, &q.plan).await {
        Ok(Ok((plan, _))) => match plan.price_rub {
            Some(price) => page::offer(&site, lang, &plan, price, token.as_str()),
            None => page::show(&site, lang, StatusCode::NOT_FOUND, &NOT_OFFERED),
        },
        Ok(Err(refusal)) => refused(&site, lang, refusal),
        Err(e) => {
            tracing::warn!(error = %e, "checkout page could not read the store");
            page::show(&site, lang, StatusCode::SERVICE_UNAVAILABLE, &UNAVAILABLE)
        }
    }
}

pub async fn pay(
    State(site): State<Site>,
    lang: RequestLang,
    Form(q): Form<CheckoutParams>,
) -> Response {
    let Some(routes) = site.card_routes() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Ok(token) = q.t.parse::<SubscriptionToken>() else {
        return page::show(&site, lang, StatusCode::FORBIDDEN, &REFUSED);
    };
    match routes
        .cards
        .start_checkout_with(
            &token,
            &q.plan,
            q.auto_renew.as_deref() == Some("on"),
            OffsetDateTime::now_utc(),
        )
        .await
    {
        Ok(url) => match HeaderValue::from_str(&url) {
            Ok(location) => {
                let mut r = StatusCode::SEE_OTHER.into_response();
                r.headers_mut().insert(LOCATION, location);
                no_store(r)
            }
            Err(_) => page::show(&site, lang, StatusCode::SERVICE_UNAVAILABLE, &UNAVAILABLE),
        },
        Err(CheckoutError::Refused(refusal)) => refused(&site, lang, refusal),
        Err(e) => {
            tracing::warn!(error = %e, "card checkout failed");
            page::show(&site, lang, StatusCode::SERVICE_UNAVAILABLE, &UNAVAILABLE)
        }
    }
}

fn refused(site: &Site, lang: RequestLang, refusal: CardRefusal) -> Response {
    match refusal {
        CardRefusal::NotOffered => page::show(site, lang, StatusCode::NOT_FOUND, &NOT_OFFERED),
        CardRefusal::NotAllowed => page::show(site, lang, StatusCode::FORBIDDEN, &REFUSED),
    }
}
