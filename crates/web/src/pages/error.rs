//! Error pages: every error status the site answers with wears the site's own page, in the
//! visitor's language, with no framework or internal text.

use askama::Template;
use axum::extract::{Request, State};
use axum::http::header::{ALLOW, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::WebError;
use crate::lang::RequestLang;
use crate::page::{html, Chrome, PageId};
use crate::site::Site;
use crate::text::account::AccountText;
use crate::text::Text;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    page: Chrome,
    text: &'static str,
    code: u16,
}

/// The router's fallback: any path the site does not have.
pub async fn not_found() -> WebError {
    WebError::NotFound
}

pub async fn method_not_allowed() -> WebError {
    WebError::MethodNotAllowed
}

/// Middleware: replaces the body of an error answer that is not already a page of ours (bare
/// statuses, plain-text rejections from extractors and limits) with the site's error page.
pub async fn dress(State(site): State<Site>, request: Request, next: Next) -> Response {
    let lang = RequestLang::negotiate(request.uri().query(), request.headers());
    let response = next.run(request).await;
    let status = response.status();
    let plain = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"));
    if !(status.is_client_error() || status.is_server_error()) || !plain {
        return response;
    }
    let mut page = render(&site, lang, status);
    // The headers that tell a client what to do next survive the new body.
    for name in [ALLOW, RETRY_AFTER, WWW_AUTHENTICATE] {
        if let Some(value) = response.headers().get(&name) {
            page.headers_mut().insert(name, value.clone());
        }
    }
    page
}

fn render(site: &Site, lang: RequestLang, status: StatusCode) -> Response {
    let t = Text::get(lang.lang);
    let (title, text) = match status {
        StatusCode::NOT_FOUND => (t.not_found_title, t.not_found_text),
        // Only account links answer 410: the person is told to ask the bot for a new one.
        StatusCode::GONE => {
            let a = AccountText::get(lang.lang);
            (a.expired_title, a.expired_text)
        }
        _ => (t.error_title, t.error_text),
    };
    let page = ErrorPage {
        page: Chrome::new(site, lang, PageId::Error, title),
        text,
        code: status.as_u16(),
    };
    // If even the error page cannot render, the bare status is the honest answer.
    html(status, &page).unwrap_or_else(IntoResponse::into_response)
}
