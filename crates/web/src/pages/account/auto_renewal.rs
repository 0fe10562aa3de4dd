//! `POST /account/{token}/auto-renewal/off`: switches card auto-renewal off (the saved payment
//! method's id is deleted at once), then back to the data page with a notice.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;

use crate::error::WebError;
use crate::lang::RequestLang;
use crate::pages::subscription::in_steady_time;
use crate::site::Site;

use super::{back_to_page, EmailNotice};

pub async fn switch_off(
    State(site): State<Site>,
    Path(token): Path<String>,
    lang: RequestLang,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    if !super::from_this_site(&headers) {
        return Err(WebError::CrossSite);
    }
    in_steady_time(async {
        let owner = super::owner(&site, &token).await?;
        // Allowed even while blocked: stopping charges is never held back.
        owner.app.switch_off_auto_renewal(owner.user.id).await?;
        Ok(back_to_page(&token, EmailNotice::RenewalOff, lang))
    })
    .await
}
