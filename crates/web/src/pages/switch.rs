//! `GET /lang/{code}?back=/page`: the language switcher. The only place the `lang` cookie is set.

use axum::extract::{Path, RawQuery, State};
use axum::http::header::{CACHE_CONTROL, LOCATION, SET_COOKIE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::error::WebError;
use crate::lang::lang_cookie;
use crate::page::PageId;
use crate::site::Site;
use domain::Language;

pub async fn switch(
    State(site): State<Site>,
    Path(code): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let lang = Language::from_code(&code).ok_or(WebError::NotFound)?;
    // Only the site's own pages may be the way back, so this is never an open redirect.
    let back = query
        .as_deref()
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "back")
        .and_then(|(_, v)| PageId::from_path(v))
        .unwrap_or(PageId::Home);
    Ok((
        StatusCode::SEE_OTHER,
        [
            (LOCATION, format!("{}?lang={}", back.path(), lang.code())),
            (SET_COOKIE, lang_cookie(lang, site.secure())),
            (CACHE_CONTROL, "no-store".to_owned()),
        ],
    )
        .into_response())
}
