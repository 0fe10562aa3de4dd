//! `GET /login` (the button to Telegram's login page), `GET /login/telegram` (where Telegram
//! returns: a page whose form posts the result, with a fresh double-submit cookie against
//! login CSRF), `POST /login/telegram` (checks the form against that cookie, then Telegram's
//! signature through `app`, and opens the session) and `POST /me/logout`.

use axum::extract::{Form, RawQuery, State};
use axum::http::header::HeaderMap;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use time::OffsetDateTime;

use super::auth_result;
use super::session::{cookie, same, see_other, session_cookie, set_cookie, MeForm};
use super::view::{self, message};
use super::{COOKIE, LOGIN_COOKIE, LOGIN_PATH, ME_PATH};
use crate::error::WebError;
use crate::lang::RequestLang;
use crate::site::Site;
use crate::text::me::MeText;

/// How long the return page's form may wait for its post.
const LOGIN_FORM_SECONDS: i64 = 10 * 60;

/// What the return page posts.
#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    /// `tgAuthResult` from the address's fragment (the redirect flow).
    #[serde(default)]
    tg_auth_result: String,
    /// The return address's query (a bot's login button).
    #[serde(default)]
    tg_query: String,
}

/// A form with nothing but its CSRF token.
#[derive(Deserialize)]
pub struct NoFields {}

pub async fn page(State(site): State<Site>, lang: RequestLang) -> Result<Response, WebError> {
    let app = site.app().ok_or(WebError::NotFound)?;
    view::login(&site, lang, app.web_login_url())
}

pub async fn returned(
    State(site): State<Site>,
    lang: RequestLang,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    site.app().ok_or(WebError::NotFound)?;
    // Only a query that is a login result is carried into the form; the rest of the address
    // (such as `?lang=`) is not.
    let query = query
        .filter(|q| auth_result::from_query(q).is_some())
        .unwrap_or_default();
    let csrf = domain::WebSessionToken::generate().as_str().to_owned();
    let mut response = view::returning(&site, lang, csrf.clone(), query)?;
    let (name, value) = set_cookie(LOGIN_COOKIE, &csrf, LOGIN_PATH, LOGIN_FORM_SECONDS);
    if let Ok(value) = value.parse() {
        response.headers_mut().insert(name, value);
    }
    Ok(response)
}

pub async fn sign_in(
    State(site): State<Site>,
    lang: RequestLang,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    let app = site.app().ok_or(WebError::NotFound)?;
    let t = MeText::get(lang.lang);
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if matches!(fetch_site, Some("cross-site" | "same-site")) {
        return Err(WebError::CrossSite);
    }
    // The form must come from the return page this browser was shown: its cookie and its
    // field match. Another site can make a browser post, but not read or set this cookie.
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if !same(expected, &form.csrf) {
        tracing::warn!("a sign-in form without its page's token was refused");
        return Err(WebError::Forbidden);
    }
    let fields = if form.tg_auth_result.is_empty() {
        auth_result::from_query(&form.tg_query)
    } else {
        auth_result::from_tg_auth_result(&form.tg_auth_result)
    };
    let outcome = match fields {
        Some(fields) => app.web_sign_in(&fields, OffsetDateTime::now_utc()).await?,
        None => app::WebSignIn::Refused,
    };
    let mut response = match outcome {
        app::WebSignIn::Signed(session) => {
            tracing::info!("a person signed in on the website");
            let mut response = see_other(ME_PATH);
            let (name, value) = session_cookie(&session.token);
            if let Ok(value) = value.parse() {
                response.headers_mut().insert(name, value);
            }
            response
        }
        app::WebSignIn::NoAccount => message(
            &site,
            lang,
            StatusCode::OK,
            t.no_account_title,
            t.no_account_text,
            site.contacts()
                .bot_url()
                .map(|url| (url, crate::text::Text::get(lang.lang).open_bot)),
        )?,
        app::WebSignIn::Refused => message(
            &site,
            lang,
            StatusCode::FORBIDDEN,
            t.refused_title,
            t.refused_text,
            Some((LOGIN_PATH.to_owned(), t.login_button)),
        )?,
    };
    // The form's token is spent either way.
    let (name, value) = set_cookie(LOGIN_COOKIE, "", LOGIN_PATH, 0);
    if let Ok(value) = value.parse() {
        response.headers_mut().append(name, value);
    }
    Ok(response)
}

pub async fn sign_out(
    State(site): State<Site>,
    lang: RequestLang,
    MeForm { customer, .. }: MeForm<NoFields>,
) -> Result<Response, WebError> {
    customer
        .app
        .web_sign_out(&customer.token, OffsetDateTime::now_utc())
        .await?;
    let t = MeText::get(lang.lang);
    let mut response = message(
        &site,
        lang,
        StatusCode::OK,
        t.signed_out_title,
        t.signed_out_text,
        Some((LOGIN_PATH.to_owned(), t.login_button)),
    )?;
    let (name, value) = set_cookie(COOKIE, "", ME_PATH, 0);
    if let Ok(value) = value.parse() {
        response.headers_mut().insert(name, value);
    }
    Ok(response)
}
