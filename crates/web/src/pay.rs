//! Card payments on the website: YooKassa's notifications (`POST /webhooks/yookassa`), the
//! checkout link the bot gives (`GET /pay/checkout`: a page with a button; `POST`: pays), and
//! the page YooKassa sends the person back to (`GET /pay/return?t=RETURN_TOKEN`). The rules
//! are `app::CardPayments`'; the sender check and the notification's parsing are `billing`'s;
//! these are the routes, under the site's headers, error pages and rate limits. The sender
//! and the rate limits start from the connection's address (`ConnectInfo`, as
//! `web::server` provides).

mod checkout;
mod page;
mod return_page;
mod webhook;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

use crate::rate_limit::{
    self, Limited, CARD_CHECKOUT_LIMIT, PAY_PAGE_LIMIT, YOOKASSA_WEBHOOK_LIMIT,
};
use crate::site::Site;

/// Where YooKassa sends notifications: the address the operator enters in YooKassa's dashboard.
pub const YOOKASSA_WEBHOOK_PATH: &str = "/webhooks/yookassa";

/// The checkout form holds a token, a plan id and maybe a promo code: a few dozen bytes.
const CHECKOUT_FORM_LIMIT: usize = 4 * 1024;

/// What the payment routes need: the use cases (whose provider decides which notifications
/// are genuine).
#[derive(Clone)]
pub struct CardRoutes {
    pub cards: app::CardPayments,
}

/// The payment routes, for a site with card payments. Page views (the checkout page and the
/// return page) share one budget; creating payments and notifications have their own.
pub fn routes(site: &Site) -> Router<Site> {
    let identity = site.settings().client_identity.clone();
    let limit = |l| {
        axum::middleware::from_fn_with_state(Limited::new(l, identity.clone()), rate_limit::enforce)
    };
    let pages = limit(PAY_PAGE_LIMIT);
    Router::new()
        .route(
            YOOKASSA_WEBHOOK_PATH,
            post(webhook::receive).route_layer(limit(YOOKASSA_WEBHOOK_LIMIT)),
        )
        .route(
            app::CARD_CHECKOUT_PATH,
            get(checkout::offer).route_layer(pages.clone()).merge(
                post(checkout::pay)
                    .layer(DefaultBodyLimit::max(CHECKOUT_FORM_LIMIT))
                    .route_layer(limit(CARD_CHECKOUT_LIMIT)),
            ),
        )
        .route(
            app::CARD_RETURN_PATH,
            get(return_page::show).route_layer(pages),
        )
}
