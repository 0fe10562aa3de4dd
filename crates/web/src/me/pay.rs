//! `POST /me/pay`: a signed-in person pays for a plan by card. The same checkout as the bot's
//! link (`app::CardPayments::start_checkout_with`), for the session's own person, then a
//! redirect to YooKassa's payment page.

use app::{CheckoutChoices, CheckoutError};
use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::PaymentMethod;
use serde::Deserialize;
use time::OffsetDateTime;

use super::session::{see_other, MeForm};
use super::view::no_store;
use super::ME_PATH;
use crate::error::WebError;
use crate::site::Site;

#[derive(Deserialize)]
pub struct PayForm {
    #[serde(default)]
    plan: String,
    #[serde(default)]
    method: String,
}

pub async fn pay(
    State(site): State<Site>,
    MeForm { customer, form }: MeForm<PayForm>,
) -> Result<Response, WebError> {
    let routes = site.card_routes().ok_or(WebError::NotFound)?;
    let token = customer
        .app
        .subscription_token(customer.user)
        .await?
        .ok_or(WebError::NotFound)?;
    let method = form.method.parse::<PaymentMethod>().ok();
    let started = routes
        .cards
        .start_checkout_with(
            &token,
            &form.plan,
            CheckoutChoices {
                method,
                ..CheckoutChoices::default()
            },
            OffsetDateTime::now_utc(),
        )
        .await;
    match started {
        Ok(url) => {
            let location = HeaderValue::from_str(&url).map_err(|_| WebError::NotFound)?;
            let mut r = StatusCode::SEE_OTHER.into_response();
            r.headers_mut().insert(LOCATION, location);
            Ok(no_store(r))
        }
        Err(CheckoutError::Refused(_)) => Err(WebError::Forbidden),
        Err(e) => {
            tracing::warn!(error = %e, "card checkout from the website failed");
            Ok(see_other(&format!("{ME_PATH}?notice=pay-failed")))
        }
    }
}
