//! The sign-in pages and the short message pages of `/login` and `/me`, in the site's frame and
//! never cached.

use askama::Template;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;

use crate::error::WebError;
use crate::lang::RequestLang;
use crate::page::{html, Chrome, PageId};
use crate::security::LOGIN_RETURN_CONTENT_SECURITY_POLICY_VALUE;
use crate::site::Site;
use crate::text::me::MeText;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    page: Chrome,
    t: &'static MeText,
    login_url: Option<String>,
    bot_url: Option<String>,
}

#[derive(Template)]
#[template(path = "login_return.html")]
struct ReturnPage {
    page: Chrome,
    t: &'static MeText,
    script: String,
    action: &'static str,
    csrf: String,
    query: String,
    ready: bool,
}

#[derive(Template)]
#[template(path = "me_message.html")]
struct MessagePage {
    page: Chrome,
    text: &'static str,
    link: Option<(String, &'static str)>,
}

/// `/login`: the button to Telegram's login page, or where to go when there is none.
pub fn login(
    site: &Site,
    lang: RequestLang,
    login_url: Option<String>,
) -> Result<Response, WebError> {
    let t = MeText::get(lang.lang);
    let mut chrome = Chrome::new(site, lang, PageId::Error, t.login_title);
    // Switching language stays on this page.
    chrome.switch_href = format!("{}?lang={}", super::LOGIN_PATH, lang.lang.other().code());
    let page = LoginPage {
        page: chrome,
        t,
        login_url,
        bot_url: site.contacts().bot_url(),
    };
    Ok(no_store(html(StatusCode::OK, &page)?))
}

/// The page Telegram returns to: a form that posts the login result, sent by the one
/// first-party script (which alone can read the fragment), or by hand without scripts.
pub fn returning(
    site: &Site,
    lang: RequestLang,
    csrf: String,
    query: String,
) -> Result<Response, WebError> {
    let t = MeText::get(lang.lang);
    let ready = !query.is_empty();
    let page = ReturnPage {
        page: Chrome::new(site, lang, PageId::Error, t.returning_title),
        t,
        script: site.assets().login_js.clone(),
        action: app::WEB_LOGIN_RETURN_PATH,
        csrf,
        query,
        ready,
    };
    let mut response = no_store(html(StatusCode::OK, &page)?);
    response.headers_mut().insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(LOGIN_RETURN_CONTENT_SECURITY_POLICY_VALUE),
    );
    Ok(response)
}

/// A title and a sentence, with an optional button.
pub fn message(
    site: &Site,
    lang: RequestLang,
    status: StatusCode,
    title: &'static str,
    text: &'static str,
    link: Option<(String, &'static str)>,
) -> Result<Response, WebError> {
    let page = MessagePage {
        page: Chrome::new(site, lang, PageId::Error, title),
        text,
        link,
    };
    Ok(no_store(html(status, &page)?))
}

pub fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
