//! The website's rate limits (`/sub/` and the account pages, the payment routes): a token bucket per client, the client as `client_identity` decides
//! (the connection's address, or a trusted proxy's forwarded header; IPv6 by /64), held only in
//! a bounded in-memory table and never logged.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::RETRY_AFTER;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use client_identity::{ClientIdentity, Limit, RateLimiter};

/// `/sub/`: apps refresh every few hours and people open the page a few times.
pub const SUBSCRIPTION_LIMIT: Limit = Limit {
    burst: 30,
    per_minute: 30,
};

/// The card checkout's button: each press opens a payment at YooKassa, so a person needs a few,
/// not hundreds.
pub const CARD_CHECKOUT_LIMIT: Limit = Limit {
    burst: 10,
    per_minute: 12,
};

/// The payment pages (the checkout page, the return page): a person reloads them a few times.
pub const PAY_PAGE_LIMIT: Limit = Limit {
    burst: 20,
    per_minute: 60,
};

/// YooKassa's notifications: they come from few addresses, sometimes in bursts.
pub const YOOKASSA_WEBHOOK_LIMIT: Limit = Limit {
    burst: 200,
    per_minute: 3_000,
};

/// A limiter and who it counts.
pub struct Limited {
    limiter: RateLimiter,
    identity: ClientIdentity,
}

impl Limited {
    pub fn new(limit: Limit, identity: ClientIdentity) -> Arc<Self> {
        Arc::new(Self {
            limiter: RateLimiter::new(limit),
            identity,
        })
    }
}

/// Middleware: 429 with `Retry-After` when the client's bucket is empty. Without a connection
/// address (a server that provides no `ConnectInfo`; milly's own always does) every such request
/// shares one bucket.
pub async fn enforce(
    State(limited): State<Arc<Limited>>,
    request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ConnectInfo(a)| a.ip());
    let client = limited.identity.key(peer, request.headers());
    let allowed = limited.limiter.allow(client, Instant::now());
    if allowed {
        next.run(request).await
    } else {
        (
            StatusCode::TOO_MANY_REQUESTS,
            [(RETRY_AFTER, limited.limiter.retry_after_secs().to_string())],
        )
            .into_response()
    }
}
