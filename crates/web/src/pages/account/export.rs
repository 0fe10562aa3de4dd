//! `POST /account/{token}/export`: "download my data" — the same JSON document as
//! `milly user export` and the bot's "my data", as a file. A `POST` (a form button), so no
//! link, preview or prefetch can fetch it.

use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use crate::error::WebError;
use crate::pages::subscription::in_steady_time;
use crate::site::Site;

/// The name the browser saves the file under (the bot sends the same one).
const FILE_NAME: &str = "my-data.json";

/// Blocked people may download too: the right of access does not depend on access to the VPN.
pub async fn download(
    State(site): State<Site>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    in_steady_time(answer(&site, &token, &headers)).await
}

async fn answer(site: &Site, token: &str, headers: &HeaderMap) -> Result<Response, WebError> {
    if !super::from_this_site(headers) {
        return Err(WebError::CrossSite);
    }
    let owner = super::owner(site, token).await?;
    let document = owner.app.export_everything(owner.user.id).await?;
    let body = serde_json::to_vec_pretty(&document)
        .map_err(|e| WebError::UseCase(app::AppError::Export(e.to_string())))?;
    tracing::info!("a person downloaded their data from the website");
    Ok((
        [
            (CONTENT_TYPE, "application/json; charset=utf-8".to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{FILE_NAME}\""),
            ),
            // Personal: never stored by the browser or anything in between.
            (CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response())
}
