//! Who is signed in: the session cookie read, checked through `app` (live, not idle, its admin
//! still in `[telegram] admins`) and kept alive; without one, a redirect to the page that says
//! how to sign in, which tells nothing about the panel.

use axum::extract::FromRequestParts;
use axum::http::header::{COOKIE as COOKIE_HEADER, LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::{AdminToken, TelegramId, ADMIN_SESSION_MAX_DAYS};
use subtle::ConstantTimeEq as _;
use time::OffsetDateTime;

use super::COOKIE;
use crate::error::WebError;
use crate::site::Site;

/// A signed-in admin, with the use cases they act through.
pub struct Signed {
    pub admin: TelegramId,
    pub token: AdminToken,
    pub app: app::App,
}

impl Signed {
    /// The token every form of this session carries.
    pub fn csrf(&self) -> String {
        self.token.csrf()
    }

    /// Whether `sent` is this session's CSRF token (compared in constant time).
    pub fn csrf_matches(&self, sent: &str) -> bool {
        bool::from(self.csrf().as_bytes().ct_eq(sent.as_bytes()))
    }
}

impl FromRequestParts<Site> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, site: &Site) -> Result<Self, Response> {
        let app = site
            .app()
            .ok_or_else(|| WebError::NotFound.into_response())?
            .clone();
        let Some(token) = session_cookie(&parts.headers) else {
            return Err(to_sign_in());
        };
        match app
            .admin_session(token.as_str(), OffsetDateTime::now_utc())
            .await
        {
            Ok(Some(admin)) => Ok(Signed { admin, token, app }),
            Ok(None) => Err(to_sign_in()),
            Err(err) => Err(WebError::from(err).into_response()),
        }
    }
}

/// The session token in the request's `milly_admin` cookie, if it is well-formed.
fn session_cookie(headers: &HeaderMap) -> Option<AdminToken> {
    headers
        .get_all(COOKIE_HEADER)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .and_then(|(_, value)| value.parse().ok())
}

/// 303 to the page that says how to sign in.
pub fn to_sign_in() -> Response {
    see_other("/admin/sign-in")
}

pub fn see_other(location: &str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, location.to_owned())]).into_response()
}

/// `Set-Cookie` for a new session: readable by no script, sent over TLS only, never with a
/// request another site started, and only to the panel.
pub fn set_cookie(token: &AdminToken) -> (axum::http::HeaderName, String) {
    let max_age = i64::from(ADMIN_SESSION_MAX_DAYS) * 24 * 60 * 60;
    (
        SET_COOKIE,
        format!(
            "{COOKIE}={}; HttpOnly; Secure; SameSite=Strict; Path=/admin; Max-Age={max_age}",
            token.as_str()
        ),
    )
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_cookie() -> (axum::http::HeaderName, String) {
    (
        SET_COOKIE,
        format!("{COOKIE}=; HttpOnly; Secure; SameSite=Strict; Path=/admin; Max-Age=0"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_is_read_from_its_own_cookie_only() {
        let token = AdminToken::generate();
        let mut headers = HeaderMap::new();
        let value = format!("lang=en; milly_admin={}; other=x", token.as_str());
        headers.insert(COOKIE_HEADER, value.parse().unwrap());
        assert_eq!(session_cookie(&headers), Some(token));
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE_HEADER, "not_milly_admin=abc".parse().unwrap());
        assert_eq!(session_cookie(&headers), None);
    }

    #[test]
    fn the_cookie_is_http_only_secure_strict_and_for_the_panel_only() {
        let (_, value) = set_cookie(&AdminToken::generate());
        for part in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/admin"] {
            assert!(value.contains(part), "{value}");
        }
    }
}
