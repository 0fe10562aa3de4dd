//! The admin web panel at `/admin`: server-rendered, no JavaScript, for the Telegram ids in
//! `[telegram] admins` only. The bot's `/admin` gives a one-time login link; its page's "Sign
//! in" button (a POST, so link previews spend nothing) opens a session kept in the cookie
//! [`COOKIE`] (HttpOnly, Secure, SameSite=Strict, Path=/admin). Every form carries the
//! session's CSRF token, checked before anything changes; every change goes through an audited
//! use case of `app`; broadcasts are jobs the bot's leader sends. Without a session every page leads to one that says how to sign in.

mod audit;
mod broadcasts;
mod dashboard;
mod form;
mod login;
mod nodes;
mod payments;
mod promos;
mod registrar;
mod session;
mod users;
mod view;

pub use registrar::{JoinOffer, NewNode, NodeRegistrar, RegistrarFuture};

use axum::routing::{get, post};
use axum::Router;

use crate::site::Site;

/// The session cookie's name.
pub const COOKIE: &str = "milly_admin";

/// Every `/admin` page and form (the operator's `/admin/metrics` is `milly`'s, merged beside).
pub fn routes() -> Router<Site> {
    Router::new()
        .route("/admin", get(dashboard::show))
        .route("/admin/login", get(login::page).post(login::sign_in))
        .route("/admin/logout", post(login::sign_out))
        .route("/admin/sign-in", get(login::how_to_sign_in))
        .route("/admin/users", get(users::search))
        .route("/admin/users/{id}", get(users::show))
        .route("/admin/users/{id}/extend", post(users::extend))
        .route("/admin/users/{id}/block", post(users::block))
        .route("/admin/users/{id}/unblock", post(users::unblock))
        .route("/admin/users/{id}/export", post(users::export))
        .route(
            "/admin/users/{id}/delete",
            get(users::confirm_delete).post(users::delete),
        )
        .route("/admin/payments", get(payments::list))
        .route("/admin/payments/{id}/refund", post(payments::refund))
        .route("/admin/nodes", get(nodes::list).post(nodes::add))
        .route("/admin/nodes/{name}/disable", post(nodes::disable))
        .route("/admin/nodes/{name}/enable", post(nodes::enable))
        .route(
            "/admin/broadcasts",
            get(broadcasts::compose).post(broadcasts::start),
        )
        .route("/admin/broadcasts/{id}", get(broadcasts::progress))
        .route("/admin/promos", get(promos::list))
        .route("/admin/audit", get(audit::list))
}
