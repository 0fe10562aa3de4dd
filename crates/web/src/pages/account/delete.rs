//! `GET /account/{token}/delete` asks for an explicit confirmation; `POST` with the box ticked
//! erases the person the same way the bot and `milly user delete` do, and says it is done. The
//! account link dies with the person.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Form;
use serde::Deserialize;

use crate::error::WebError;
use crate::lang::RequestLang;
use crate::page::{html, Chrome, PageId};
use crate::pages::subscription::in_steady_time;
use crate::site::Site;
use crate::text::account::AccountText;

use super::href;

/// The value the confirmation checkbox sends when ticked.
const CONFIRMED: &str = "yes";

#[derive(Template)]
#[template(path = "delete.html")]
struct ConfirmPage {
    page: Chrome,
    t: &'static AccountText,
    /// The form came back without the box ticked.
    unchecked: bool,
    action: String,
    back_href: String,
}

#[derive(Template)]
#[template(path = "deleted.html")]
struct DeletedPage {
    page: Chrome,
    t: &'static AccountText,
}

/// The confirmation form; without the box ticked nothing is erased.
#[derive(Debug, Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    confirm: String,
}

/// Blocked people may delete too: the right to erasure does not depend on access to the VPN.
pub async fn confirm(
    State(site): State<Site>,
    Path(token): Path<String>,
    lang: RequestLang,
) -> Result<Response, WebError> {
    in_steady_time(async {
        super::owner(&site, &token).await?;
        confirm_page(&site, &token, lang, false)
    })
    .await
}

pub async fn erase(
    State(site): State<Site>,
    Path(token): Path<String>,
    lang: RequestLang,
    headers: HeaderMap,
    Form(form): Form<DeleteForm>,
) -> Result<Response, WebError> {
    if !super::from_this_site(&headers) {
        return Err(WebError::CrossSite);
    }
    in_steady_time(async {
        let owner = super::owner(&site, &token).await?;
        if form.confirm != CONFIRMED {
            return confirm_page(&site, &token, lang, true);
        }
        owner.app.erase_person(owner.user.id).await?;
        tracing::info!("a person deleted their account from the website");
        deleted_page(&site, lang)
    })
    .await
}

fn confirm_page(
    site: &Site,
    token: &str,
    lang: RequestLang,
    unchecked: bool,
) -> Result<Response, WebError> {
    let t = AccountText::get(lang.lang);
    let mut page = Chrome::new(site, lang, PageId::Error, t.delete_title);
    // Switching language stays on this page and remembers nothing.
    page.switch_href = format!(
        "{}{token}/delete?lang={}",
        app::ACCOUNT_LINK_PATH,
        lang.lang.other().code()
    );
    let template = ConfirmPage {
        page,
        t,
        unchecked,
        action: href(token, "/delete", lang),
        back_href: href(token, "", lang),
    };
    let status = if unchecked {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    private(html(status, &template)?)
}

fn deleted_page(site: &Site, lang: RequestLang) -> Result<Response, WebError> {
    let t = AccountText::get(lang.lang);
    let mut page = Chrome::new(site, lang, PageId::Error, t.deleted_title);
    // The person's own addresses are gone; the switcher leads to the home page.
    page.switch_href = format!("/?lang={}", lang.lang.other().code());
    private(html(StatusCode::OK, &DeletedPage { page, t })?)
}

/// Personal pages are never stored by the browser or anything in between.
fn private(mut response: Response) -> Result<Response, WebError> {
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
