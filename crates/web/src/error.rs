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
    #[error("a page template failed to render")]
    Render(#[from] askama::Error),
    #[error("the store is unavailable")]
    Store(#[from] store::StoreError),
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            WebError::Render(_) => StatusCode::INTERNAL_SERVER_ERROR,
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
            WebError::NotFound | WebError::MethodNotAllowed => {}
        }
        self.status().into_response()
    }
}
