//! `GET /account/{token}`: the person's data page — download, email, auto-renewal, deletion —
//! opened with the account link the bot gave. Looking changes nothing (so a link preview is harmless).

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;

use crate::error::WebError;
use crate::lang::RequestLang;
use crate::page::{html, Chrome, PageId};
use crate::pages::subscription::in_steady_time;
use crate::site::Site;

use super::{EmailNotice, Section};

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    page: Chrome,
    account: Section,
}

pub async fn show(
    State(site): State<Site>,
    Path(token): Path<String>,
    RawQuery(query): RawQuery,
    lang: RequestLang,
) -> Result<Response, WebError> {
    in_steady_time(async {
        let owner = super::owner(&site, &token).await?;
        let notice = EmailNotice::from_query(query.as_deref());
        let renewal = owner.app.auto_renewal(owner.user.id).await?;
        let account = Section::new(&owner.user, &token, notice, lang)
            .with_auto_renewal(renewal.map(|r| r.plan.0));
        let mut page = Chrome::new(&site, lang, PageId::Error, account.t.data_title);
        // Switching language stays on this page and remembers nothing.
        page.switch_href = format!(
            "{}{token}?lang={}",
            app::ACCOUNT_LINK_PATH,
            lang.lang.other().code()
        );
        let mut response = html(StatusCode::OK, &AccountPage { page, account })?;
        // Personal: never stored by the browser or anything in between.
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Ok(response)
    })
    .await
}
