//! `AdminForm<T>`: a panel form from a signed-in admin whose CSRF field is their session's,
//! checked before the rest of the form is even read. Anything else answers 403 and changes
//! nothing; without a session, the sign-in redirect.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::session::Signed;
use crate::error::WebError;
use crate::security::MAX_BODY_BYTES;
use crate::site::Site;

/// The form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf";

pub struct AdminForm<T> {
    pub signed: Signed,
    pub form: T,
}

/// A form with nothing but its CSRF token.
#[derive(serde::Deserialize)]
pub struct NoFields {}

impl<T: DeserializeOwned + Send> FromRequest<Site> for AdminForm<T> {
    type Rejection = Response;

    async fn from_request(request: Request, site: &Site) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let signed = Signed::from_request_parts(&mut parts, site).await?;
        let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
            .await
            .map_err(|_| StatusCode::PAYLOAD_TOO_LARGE.into_response())?;
        let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
            .map_err(|_| WebError::Forbidden.into_response())?;
        let sent = fields
            .iter()
            .find(|(name, _)| name == CSRF_FIELD)
            .map(|(_, value)| value.as_str())
            .unwrap_or_default();
        if !signed.csrf_matches(sent) {
            tracing::warn!("an admin form without its session's CSRF token was refused");
            return Err(WebError::Forbidden.into_response());
        }
        let form = serde_urlencoded::from_bytes::<T>(&bytes)
            .map_err(|_| StatusCode::BAD_REQUEST.into_response())?;
        Ok(AdminForm { signed, form })
    }
}
