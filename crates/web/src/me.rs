//! Signing in on the website with Telegram and the signed-in person's page, `/me`: their
//! subscription (status, days left, plan, the link and its QR code) and paying by card without
//! the bot. Telegram's login is its own page at `oauth.telegram.org` (the Login Widget's
//! redirect flow, reached by a plain link: the site embeds no third-party script), which
//! returns to `/login/telegram` with its signed result; that page posts it to us and
//! `app::App::web_sign_in` checks the signature with the bot token before anything else. Only
//! someone who already has an account (accepted the policy in the bot) gets a session; anyone
//! else is sent to the bot and nothing is stored. The session is the cookie [`COOKIE`]
//! (random, stored hashed, HttpOnly, Secure on HTTPS, SameSite=Strict, Path=/me, 30 days);
//! every `/me` form carries the session's CSRF token, checked before anything is read.

mod auth_result;
mod login;
mod page;
mod pay;
mod session;
mod view;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

use crate::rate_limit::{self, Limited, CARD_CHECKOUT_LIMIT, PAY_PAGE_LIMIT};
use crate::site::Site;

/// The session cookie's name.
pub const COOKIE: &str = "milly_session";
/// The sign-in form's double-submit cookie (a login CSRF guard), for `/login` only.
pub const LOGIN_COOKIE: &str = "milly_login";

pub const LOGIN_PATH: &str = "/login";
pub const ME_PATH: &str = "/me";
pub const PAY_PATH: &str = "/me/pay";
pub const LOGOUT_PATH: &str = "/me/logout";

/// Forms here hold a token, a plan and a method, or Telegram's login result: a few hundred bytes.
const FORM_LIMIT: usize = 8 * 1024;

/// The sign-in and `/me` routes, for a site with the app.
pub fn routes(site: &Site) -> Router<Site> {
    let identity = site.settings().client_identity.clone();
    let limit = |l| {
        axum::middleware::from_fn_with_state(Limited::new(l, identity.clone()), rate_limit::enforce)
    };
    let pages = limit(PAY_PAGE_LIMIT);
    Router::new()
        .route(LOGIN_PATH, get(login::page))
        .route(
            app::WEB_LOGIN_RETURN_PATH,
            get(login::returned).post(login::sign_in),
        )
        .route(ME_PATH, get(page::show))
        .route(LOGOUT_PATH, post(login::sign_out))
        .route_layer(pages)
        .merge(
            Router::new()
                .route(PAY_PATH, post(pay::pay))
                .route_layer(limit(CARD_CHECKOUT_LIMIT)),
        )
        .layer(DefaultBodyLimit::max(FORM_LIMIT))
}
