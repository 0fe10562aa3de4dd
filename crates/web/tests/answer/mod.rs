//! The website's router driven in-process: a request sent through it and its answer read whole
//! (status, headers, body text), and requests as if from a given client address.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode};
use tower::ServiceExt;

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

/// Sends `request` through `router` and reads the whole answer; every body the site sends is
/// UTF-8 text.
pub async fn send(router: axum::Router, request: Request<Body>) -> Answer {
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Answer {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

/// `request` as if it came from `client` (the peer address rate limits count by).
pub fn from_client(client: SocketAddr, mut request: Request<Body>) -> Request<Body> {
    request.extensions_mut().insert(ConnectInfo(client));
    request
}
