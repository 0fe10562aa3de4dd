//! The milly website (axum): public pages, privacy policy, the read-only subscription endpoint,
//! the person's own data controls (download, correct, delete) behind the short-lived account
//! link the bot gives, and card payments (checkout, return page, YooKassa's webhook); also the
//! node's fallback for probes, so it answers any request the way an ordinary web server would.
#![forbid(unsafe_code)]

pub mod acme_http;
mod admin;
mod assets;
mod contacts;
mod document;
mod error;
mod health;
mod lang;
mod me;
mod page;
mod pages;
mod pay;
mod rate_limit;
mod security;
pub mod server;
mod settings;
mod site;
pub mod subscription;
mod text;

use axum::routing::{any, get, post};
use axum::Router;

use crate::rate_limit::{Limited, SUBSCRIPTION_LIMIT};

pub use admin::{JoinOffer, NewNode, NodeRegistrar, RegistrarFuture, COOKIE as ADMIN_COOKIE};
pub use error::WebError;
pub use lang::LANG_COOKIE;
pub use me::{COOKIE as SESSION_COOKIE, LOGIN_COOKIE};
pub use pay::YOOKASSA_WEBHOOK_PATH;
pub use security::{
    CHECKOUT_CONTENT_SECURITY_POLICY_VALUE, CONTENT_SECURITY_POLICY_VALUE,
    LOGIN_RETURN_CONTENT_SECURITY_POLICY_VALUE, MAX_BODY_BYTES,
};
pub use settings::{Build, SiteSettings};
pub use site::{InventoryEntry, Site};

/// Every route of the website with its middleware (security headers, error pages, body limit).
pub fn router(site: Site) -> Router {
    router_with(site, Router::new())
}

/// [`router`] plus `extra` routes (such as the operator's admin API) that share the site's
/// security headers, error pages and body limit, so a probe cannot tell them apart by style.
/// `extra` must not set a fallback of its own.
pub fn router_with(site: Site, extra: Router) -> Router {
    let secure = site.secure();
    let sub_limit = Limited::new(SUBSCRIPTION_LIMIT, site.settings().client_identity.clone());
    let payments = match site.card_routes() {
        Some(_) => pay::routes(&site),
        None => Router::new(),
    };
    let accounts = match site.app() {
        Some(_) => me::routes(&site),
        None => Router::new(),
    };
    let routes = Router::new()
        .route("/", get(pages::home::show))
        .route("/privacy", get(pages::documents::privacy))
        .route("/terms", get(pages::documents::terms))
        .route("/support", get(pages::support::show))
        .route("/lang/{code}", get(pages::switch::switch))
        .route("/assets/{name}", get(assets::serve))
        .route("/robots.txt", get(robots))
        .route("/healthz", get(health::show))
        .merge(
            Router::new()
                .route("/sub/{token}", get(pages::subscription::show))
                // The old addresses of the data controls: they only say where to go now.
                .route("/sub/{token}/export", any(pages::account::moved::show))
                .route("/sub/{token}/email", any(pages::account::moved::show))
                .route("/sub/{token}/delete", any(pages::account::moved::show))
                .route("/account/{token}", get(pages::account::overview::show))
                .route(
                    "/account/{token}/export",
                    post(pages::account::export::download),
                )
                .route(
                    "/account/{token}/email",
                    post(pages::account::email::update),
                )
                .route(
                    "/account/{token}/auto-renewal/off",
                    post(pages::account::auto_renewal::switch_off),
                )
                .route(
                    "/account/{token}/delete",
                    get(pages::account::delete::confirm).post(pages::account::delete::erase),
                )
                .route_layer(axum::middleware::from_fn_with_state(
                    sub_limit,
                    rate_limit::enforce,
                )),
        )
        .merge(payments)
        .merge(accounts)
        .merge(admin::routes())
        .fallback(pages::error::not_found)
        .method_not_allowed_fallback(pages::error::method_not_allowed)
        .with_state(site.clone())
        .merge(extra);
    // Outermost last: the headers also cover error pages, which also cover the body limit's 413.
    let routes = security::limit_body(routes).layer(axum::middleware::from_fn_with_state(
        site,
        pages::error::dress,
    ));
    security::headers(routes, secure)
}

/// Crawlers may read the public pages; personal subscription links are none of their business.
async fn robots() -> &'static str {
    "User-agent: *\nDisallow: /sub/\nDisallow: /account/\nDisallow: /admin\nDisallow: /me\nDisallow: /login\n"
}
