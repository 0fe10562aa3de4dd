//! The checkout link the bot gives: `GET` shows what it offers and a button, with nothing stored
//! and nothing asked of YooKassa, so link previewers and prefetchers open it harmlessly; `POST`
//! (the button) opens the payment and redirects to YooKassa's payment page.

use app::{CardRefusal, CheckoutChoices, CheckoutError};
use axum::extract::{Form, Query, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::SubscriptionToken;
use serde::Deserialize;
use time::OffsetDateTime;

use super::page::{self, no_store, PromoShown};
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
    /// The way to pay chosen on the page, when the operator offers several.
    #[serde(default)]
    method: String,
    /// A discount code typed on the page (or carried by the bot's link); empty for none.
    #[serde(default)]
    promo: String,
    /// `1` when the plan is bought as a gift (`app::GIFT_PARAM`).
    #[serde(default)]
    gift: Option<String>,
    /// The checkout form's auto-renewal checkbox: `on` only when the person ticked it.
    #[serde(default)]
    auto_renew: Option<String>,
}

impl CheckoutParams {
    fn promo(&self) -> Option<&str> {
        Some(self.promo.trim()).filter(|p| !p.is_empty())
    }

    fn is_gift(&self) -> bool {
        self.gift.as_deref() == Some("1")
    }

    fn renews(&self) -> bool {
        self.auto_renew.as_deref() == Some("on")
    }
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
    let app = routes.cards.app();
    let now = OffsetDateTime::now_utc();
    match app
        .card_offer_with_promo(&token, &q.plan, q.promo().filter(|_| !q.is_gift()), now)
        .await
    {
        Ok(Ok(offer)) => {
            let shown = match (&offer.promo, offer.plan.price_rub) {
                (Some(promo), Some(full_price)) => Some(PromoShown::Applied {
                    code: promo.code.to_string(),
                    full_price,
                }),
                _ => None,
            };
            page::offer(
                &site,
                lang,
                StatusCode::OK,
                page::Checkout {
                    plan: &offer.plan,
                    price: offer.price,
                    token: token.as_str(),
                    methods: &app.settings().yookassa.payment_methods,
                    promo: shown,
                    gift: q.is_gift(),
                },
            )
        }
        Ok(Err(refusal)) => refused(&site, lang, &token, &q.plan, refusal).await,
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
            CheckoutChoices {
                method: q.method.parse().ok(),
                promo: q.promo(),
                gift: q.is_gift(),
                save_method: q.renews(),
            },
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
        Err(CheckoutError::Refused(refusal)) => {
            refused(&site, lang, &token, &q.plan, refusal).await
        }
        Err(e) => {
            tracing::warn!(error = %e, "card checkout failed");
            page::show(&site, lang, StatusCode::SERVICE_UNAVAILABLE, &UNAVAILABLE)
        }
    }
}

async fn refused(
    site: &Site,
    lang: RequestLang,
    token: &SubscriptionToken,
    plan: &str,
    refusal: CardRefusal,
) -> Response {
    match refusal {
        CardRefusal::NotOffered => page::show(site, lang, StatusCode::NOT_FOUND, &NOT_OFFERED),
        CardRefusal::NotAllowed => page::show(site, lang, StatusCode::FORBIDDEN, &REFUSED),
        // The code gives nothing here: the offer at its full price, saying why. Nothing is
        // charged at a price the person did not see.
        CardRefusal::Promo(why) => {
            let Some(routes) = site.card_routes() else {
                return StatusCode::NOT_FOUND.into_response();
            };
            match routes.cards.app().card_offer(token, plan).await {
                Ok(Ok((plan, _))) => match plan.price_rub {
                    Some(price) => page::offer(
                        site,
                        lang,
                        StatusCode::CONFLICT,
                        page::Checkout {
                            plan: &plan,
                            price,
                            token: token.as_str(),
                            methods: &routes.cards.app().settings().yookassa.payment_methods,
                            promo: Some(PromoShown::Refused(why)),
                            gift: false,
                        },
                    ),
                    None => page::show(site, lang, StatusCode::NOT_FOUND, &NOT_OFFERED),
                },
                Ok(Err(_)) => page::show(site, lang, StatusCode::FORBIDDEN, &REFUSED),
                Err(e) => {
                    tracing::warn!(error = %e, "checkout page could not read the store");
                    page::show(site, lang, StatusCode::SERVICE_UNAVAILABLE, &UNAVAILABLE)
                }
            }
        }
    }
}
