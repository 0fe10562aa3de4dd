//! Signing in and out. `GET /admin/login?t=` only shows a "Sign in" button, so a link preview
//! spends nothing; its `POST` uses the link once and sets the session cookie. A malformed,
//! unknown, expired or used link, or one of someone no longer an admin: 403, no cookie.

use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::header::HeaderMap;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use time::OffsetDateTime;

use super::form::{AdminForm, NoFields};
use super::session::{clear_cookie, see_other, set_cookie};
use super::view::{message, AdminChrome};
use crate::error::WebError;
use crate::site::Site;

const REFUSED: &str = "This sign-in link does not work: it was used, it is older than 10 \
     minutes, or it is not yours. Send /admin to the bot for a new one.";

#[derive(Deserialize)]
pub struct LinkToken {
    #[serde(default)]
    t: String,
}

#[derive(Template)]
#[template(path = "admin/login.html")]
struct LoginPage {
    chrome: AdminChrome,
    token: String,
}

/// `GET /admin/login?t=`: the sign-in button; the token is not checked or spent here.
fn login_page(site: &Site, token: String) -> Result<Response, WebError> {
    super::view::page(
        StatusCode::OK,
        &LoginPage {
            chrome: AdminChrome::new(site, None, "", "Sign in"),
            token,
        },
    )
}

pub async fn page(
    State(site): State<Site>,
    Query(link): Query<LinkToken>,
) -> Result<Response, WebError> {
    site.app().ok_or(WebError::NotFound)?;
    login_page(&site, link.t)
}

/// `POST /admin/login`: spends the link and opens a session.
pub async fn sign_in(
    State(site): State<Site>,
    headers: HeaderMap,
    Form(link): Form<LinkToken>,
) -> Result<Response, WebError> {
    let app = site.app().ok_or(WebError::NotFound)?;
    // The one-time secret in the form is the real lock; a browser that says another site
    // sent the form is refused anyway. (`Origin` is `null` here: the site's referrer policy is
    // `no-referrer`, so it cannot be compared.)
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if matches!(fetch_site, Some("cross-site" | "same-site")) {
        return Err(WebError::CrossSite);
    }
    match app
        .admin_sign_in(&link.t, OffsetDateTime::now_utc())
        .await?
    {
        Some(session) => {
            tracing::info!("an admin signed in to the panel");
            let mut response = see_other("/admin");
            let (name, value) = set_cookie(&session.token);
            if let Ok(value) = value.parse() {
                response.headers_mut().insert(name, value);
            }
            Ok(response)
        }
        None => message(
            &site,
            None,
            StatusCode::FORBIDDEN,
            "Sign-in refused",
            REFUSED,
        ),
    }
}

/// `POST /admin/logout`: ends the session and removes the cookie.
pub async fn sign_out(
    State(site): State<Site>,
    AdminForm { signed, .. }: AdminForm<NoFields>,
) -> Result<Response, WebError> {
    signed
        .app
        .admin_sign_out(&signed.token, signed.admin, OffsetDateTime::now_utc())
        .await?;
    let mut response = message(
        &site,
        None,
        StatusCode::OK,
        "Signed out",
        "You are signed out. Send /admin to the bot to sign in again.",
    )?;
    let (name, value) = clear_cookie();
    if let Ok(value) = value.parse() {
        response.headers_mut().insert(name, value);
    }
    Ok(response.into_response())
}

/// `GET /admin/sign-in`: where every panel page leads without a session.
pub async fn how_to_sign_in(State(site): State<Site>) -> Result<Response, WebError> {
    site.app().ok_or(WebError::NotFound)?;
    message(
        &site,
        None,
        StatusCode::OK,
        "Sign in",
        "Send /admin to the bot from an admin's Telegram account: it answers with a sign-in \
         link that works once, for 10 minutes.",
    )
}
