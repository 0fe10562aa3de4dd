//! The plain-HTTP listener beside the HTTPS site (`[web] tls = "acme"`): the ACME CA's HTTP-01
//! challenges at `/.well-known/acme-challenge/{token}`, and a 301 to the HTTPS site for
//! everything else. The redirect goes to the configured origin, never to the request's Host.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// Connections open at once on `http_listen`: a redirect or a challenge is one short request,
/// and these descriptors come out of the process's reserve, not the website's share.
pub const MAX_CONNECTIONS: usize = 64;

#[derive(Clone)]
struct Redirector {
    challenges: acme::Challenges,
    /// `https://vpn.example.com` (with a port when not 443), no trailing slash.
    https_origin: String,
}

/// The router for `[web] http_listen`.
pub fn router(challenges: acme::Challenges, https_origin: &str) -> Router {
    Router::new()
        .route("/.well-known/acme-challenge/{token}", get(challenge))
        .fallback(redirect)
        .with_state(Redirector {
            challenges,
            https_origin: https_origin.trim_end_matches('/').to_owned(),
        })
}

async fn challenge(State(r): State<Redirector>, Path(token): Path<String>) -> Response {
    match r.challenges.answer(&token) {
        Some(answer) => {
            ([(header::CONTENT_TYPE, "application/octet-stream")], answer).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn redirect(State(r): State<Redirector>, uri: Uri) -> Response {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let location = format!("{}{path}", r.https_origin);
    (
        StatusCode::MOVED_PERMANENTLY,
        [(header::LOCATION, location)],
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt as _;

    use super::*;

    async fn get(router: &Router, path: &str) -> Response {
        router
            .clone()
            .oneshot(
                Request::get(path)
                    .header(header::HOST, "attacker.example")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn everything_but_a_challenge_moves_to_the_https_site_of_the_config() {
        let router = router(acme::Challenges::new(), "https://vpn.example.com/");
        let r = get(&router, "/account/x?lang=en").await;
        assert_eq!(r.status(), StatusCode::MOVED_PERMANENTLY);
        assert_eq!(
            r.headers()[header::LOCATION],
            "https://vpn.example.com/account/x?lang=en"
        );
    }

    #[tokio::test]
    async fn an_unknown_challenge_token_is_not_found() {
        let router = router(acme::Challenges::new(), "https://vpn.example.com");
        let r = get(&router, "/.well-known/acme-challenge/abc").await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
}
