//! The website's one error type. It answers with a bare status; the `error_pages` layer then
//! dresses every error status in the site's own page, so no framework or internal text leaks.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("no such page")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    /// An account link that is malformed, unknown, replaced or expired: all look the same.
    #[error("the account link no longer works")]
    LinkExpired,
    /// A form another site's page sent to the data controls.
    #[error("a cross-site form was refused")]
    CrossSite,
    /// An admin panel form without its session's CSRF token, or a refused sign-in.
    #[error("forbidden")]
    Forbidden,
    #[error("a page template failed to render")]
    Render(#[from] askama::Error),
    #[error("the store is unavailable")]
    Store(#[from] store::StoreError),
    /// A use case failed for a reason other than the store. Use-case errors carry no personal
    /// data, so the reason is logged as it is; the visitor sees only the status.
    #[error("a use case failed: {0}")]
    UseCase(app::AppError),
}

impl From<app::AppError> for WebError {
    fn from(e: app::AppError) -> Self {
        match e {
            // Deleted between reading the token and acting on it: the page is gone.
            app::AppError::UserNotFound => WebError::NotFound,
            app::AppError::Store(e) => WebError::Store(e),
            other => WebError::UseCase(other),
        }
    }
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            WebError::LinkExpired => StatusCode::GONE,
            WebError::CrossSite | WebError::Forbidden => StatusCode::FORBIDDEN,
            WebError::Render(_) | WebError::UseCase(_) => StatusCode::INTERNAL_SERVER_ERROR,
            WebError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match &self {
            // Template errors name a template and a field, never a visitor's data.
            WebError::Render(e) => tracing::error!(error = %e, "page rendering failed"),
            // Store errors name a table or a masked URL, never a row's content.
            WebError::Store(e) => tracing::error!(error = %e, "store unavailable for the website"),
            WebError::UseCase(e) => {
                tracing::error!(error = %e, "a use case failed for the website")
            }
            WebError::NotFound
            | WebError::MethodNotAllowed
            | WebError::LinkExpired
            | WebError::CrossSite
            | WebError::Forbidden => {}
        }
        self.status().into_response()
    }
}
