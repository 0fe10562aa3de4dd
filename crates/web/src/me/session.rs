//! Who is signed in: the session cookie read and checked through `app`; without a live session
//! a redirect to the sign-in page. [`MeForm`] is a `/me` form whose CSRF field is the session's,
//! checked before the rest of the form is read; anything else answers 403 and changes nothing.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{COOKIE as COOKIE_HEADER, LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::{UserId, WebSessionToken, WEB_SESSION_DAYS};
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq as _;
use time::OffsetDateTime;

use super::{COOKIE, LOGIN_PATH, ME_PATH};
use crate::error::WebError;
use crate::security::MAX_BODY_BYTES;
use crate::site::Site;

/// The form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf";

/// A signed-in person, with the use cases that act for them.
pub struct Customer {
    pub user: UserId,
    pub token: WebSessionToken,
    pub app: app::App,
}

impl Customer {
    /// The token every form of this session carries.
    pub fn csrf(&self) -> String {
        self.token.csrf()
    }
}

impl FromRequestParts<Site> for Customer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, site: &Site) -> Result<Self, Response> {
        let app = site
            .app()
            .ok_or_else(|| WebError::NotFound.into_response())?
            .clone();
        let Some(token) = cookie(&parts.headers, COOKIE).and_then(|v| v.parse().ok()) else {
            return Err(see_other(LOGIN_PATH));
        };
        let token: WebSessionToken = token;
        match app
            .web_session(token.as_str(), OffsetDateTime::now_utc())
            .await
        {
            Ok(Some(user)) => Ok(Customer { user, token, app }),
            Ok(None) => Err(see_other(LOGIN_PATH)),
            Err(err) => Err(WebError::from(err).into_response()),
        }
    }
}

/// A `/me` form from a signed-in person, its CSRF token checked first.
pub struct MeForm<T> {
    pub customer: Customer,
    pub form: T,
}

impl<T: DeserializeOwned + Send> FromRequest<Site> for MeForm<T> {
    type Rejection = Response;

    async fn from_request(request: Request, site: &Site) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let customer = Customer::from_request_parts(&mut parts, site).await?;
        let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
            .await
            .map_err(|_| StatusCode::PAYLOAD_TOO_LARGE.into_response())?;
        let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
            .map_err(|_| WebError::Forbidden.into_response())?;
        let sent = field(&fields, CSRF_FIELD);
        if !same(&customer.csrf(), sent) {
            tracing::warn!("a /me form without its session's CSRF token was refused");
            return Err(WebError::Forbidden.into_response());
        }
        let form = serde_urlencoded::from_bytes::<T>(&bytes)
            .map_err(|_| StatusCode::BAD_REQUEST.into_response())?;
        Ok(MeForm { customer, form })
    }
}

/// The value of the field `name`, or empty.
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

/// Whether two secrets are equal, compared in constant time (an empty one never matches).
pub fn same(expected: &str, sent: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(sent.as_bytes()))
}

/// The value of the request's cookie `name`.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE_HEADER)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value)
}

pub fn see_other(location: &str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, location.to_owned())]).into_response()
}

/// `Set-Cookie` for a cookie no script reads, sent over TLS only (browsers count
/// `http://localhost` as secure too), never with a request another site started, and only
/// under `path`; `max_age` 0 removes it.
pub fn set_cookie(name: &str, value: &str, path: &str, max_age: i64) -> (HeaderName, String) {
    (
        SET_COOKIE,
        format!(
            "{name}={value}; HttpOnly; Secure; SameSite=Strict; Path={path}; Max-Age={max_age}"
        ),
    )
}

/// `Set-Cookie` for a new session.
pub fn session_cookie(token: &WebSessionToken) -> (HeaderName, String) {
    let max_age = i64::from(WEB_SESSION_DAYS) * 24 * 60 * 60;
    set_cookie(COOKIE, token.as_str(), ME_PATH, max_age)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_http_only_secure_strict_and_for_me_only() {
        let token = WebSessionToken::generate();
        let (_, value) = session_cookie(&token);
        for part in [
            "HttpOnly",
            "Secure",
            "SameSite=Strict",
            "Path=/me",
            "Max-Age=2592000",
        ] {
            assert!(value.contains(part), "{value}");
        }
    }

    #[test]
    fn cookies_are_read_by_exact_name_and_secrets_compared_whole() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE_HEADER,
            "lang=en; not_milly_session=x; milly_session=abc"
                .parse()
                .unwrap(),
        );
        assert_eq!(cookie(&headers, COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, "milly_login"), None);
        assert!(same("abc", "abc"));
        assert!(!same("abc", "ab"));
        assert!(!same("", ""));
    }
}
