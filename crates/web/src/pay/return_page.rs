//! `GET /pay/return?t=RETURN_TOKEN`: the real state of the payment whose return token the link
//! carries (YooKassa is asked first while it is pending here), and nothing about who paid or
//! what. Links without a token (the old `?payment=NUMBER`) get a neutral page whatever they name.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::{PaymentStatus, ReturnToken};
use serde::Deserialize;
use time::OffsetDateTime;

use super::page;
use crate::lang::RequestLang;
use crate::site::Site;
use crate::text::pay::{
    PaySays, CANCELED, GIFT_SUCCEEDED, NOT_FOUND, PENDING, REFUNDED, RETURN_NEUTRAL, SUCCEEDED,
    UNAVAILABLE,
};

#[derive(Deserialize)]
pub struct ReturnQuery {
    /// Named by `app::RETURN_TOKEN_PARAM`.
    #[serde(default)]
    t: Option<String>,
}

pub async fn show(
    State(site): State<Site>,
    lang: RequestLang,
    Query(q): Query<ReturnQuery>,
) -> Response {
    let Some(routes) = site.card_routes() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(given) = q.t else {
        return page::show(&site, lang, StatusCode::OK, &RETURN_NEUTRAL);
    };
    let Ok(token) = given.parse::<ReturnToken>() else {
        return page::show(&site, lang, StatusCode::NOT_FOUND, &NOT_FOUND);
    };
    match routes
        .cards
        .status_for_return(&token, OffsetDateTime::now_utc())
        .await
    {
        Ok(Some(PaymentStatus::Succeeded))
            if routes.cards.is_gift_return(&token).await.unwrap_or(false) =>
        {
            page::show(&site, lang, StatusCode::OK, &GIFT_SUCCEEDED)
        }
        Ok(Some(status)) => page::show(&site, lang, StatusCode::OK, says(status)),
        Ok(None) => page::show(&site, lang, StatusCode::NOT_FOUND, &NOT_FOUND),
        Err(e) => {
            tracing::warn!(error = %e, "return page could not read the store");
            page::show(&site, lang, StatusCode::SERVICE_UNAVAILABLE, &UNAVAILABLE)
        }
    }
}

fn says(status: PaymentStatus) -> &'static PaySays {
    match status {
        PaymentStatus::Succeeded => &SUCCEEDED,
        PaymentStatus::Pending => &PENDING,
        PaymentStatus::Canceled => &CANCELED,
        PaymentStatus::Refunded => &REFUNDED,
    }
}
