//! `GET /support`: how to reach the operator.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::error::WebError;
use crate::lang::RequestLang;
use crate::page::{html, link, Chrome, PageId};
use crate::site::Site;
use crate::text::Text;

#[derive(Template)]
#[template(path = "support.html")]
struct SupportPage {
    page: Chrome,
    /// (href, text) pairs.
    email: Option<(String, String)>,
    telegram: Option<(String, String)>,
    bot: Option<(String, String)>,
    privacy_href: String,
}

pub async fn show(State(site): State<Site>, lang: RequestLang) -> Result<Response, WebError> {
    let c = site.contacts();
    let title = Text::get(lang.lang).support_title;
    let page = SupportPage {
        page: Chrome::new(&site, lang, PageId::Support, title),
        email: c.email.as_ref().map(|e| (format!("mailto:{e}"), e.clone())),
        telegram: c.support_telegram.as_ref().map(|h| (h.url(), h.display())),
        bot: c.bot.as_ref().map(|h| (h.url(), h.display())),
        privacy_href: link(PageId::Privacy.path(), lang),
    };
    html(StatusCode::OK, &page)
}
