//! Per-client token buckets for the endpoints worth protecting (`/sub/`, webhooks). Clients are
//! keyed by address (IPv6 by its /64), held only in memory and never logged.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::RETRY_AFTER;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// How many clients are tracked at once; past that, idle ones are dropped first and any
/// remaining newcomers share one bucket.
const MAX_CLIENTS: usize = 10_000;

/// A client idle this long has a full bucket again and need not be remembered.
const FORGET_AFTER: Duration = Duration::from_secs(600);

#[derive(Debug, Clone, Copy)]
pub struct Limit {
    /// Requests a client may make at once.
    pub burst: u32,
    /// Requests a client regains per minute.
    pub per_minute: u32,
}

/// `/sub/`: apps refresh every few hours and people open the page a few times.
pub const SUBSCRIPTION_LIMIT: Limit = Limit {
    burst: 30,
    per_minute: 30,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    V4([u8; 4]),
    V6Prefix([u8; 8]),
    /// No address known (or too many clients): everyone in here shares one bucket.
    Shared,
}

impl Key {
    fn of(addr: Option<IpAddr>) -> Self {
        match addr.map(|a| a.to_canonical()) {
            Some(IpAddr::V4(v4)) => Key::V4(v4.octets()),
            Some(IpAddr::V6(v6)) => {
                let o = v6.octets();
                Key::V6Prefix([o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7]])
            }
            None => Key::Shared,
        }
    }
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

pub struct RateLimiter {
    limit: Limit,
    buckets: Mutex<HashMap<Key, Bucket>>,
}

impl RateLimiter {
    pub fn new(limit: Limit) -> Arc<Self> {
        Arc::new(Self {
            limit,
            buckets: Mutex::new(HashMap::new()),
        })
    }

    /// Takes one request from the client's bucket; `false` means "too many, wait".
    pub fn allow(&self, addr: Option<IpAddr>, now: Instant) -> bool {
        // A poisoned lock only means another request panicked mid-update; the counts stay usable.
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let mut key = Key::of(addr);
        if !buckets.contains_key(&key) && buckets.len() >= MAX_CLIENTS {
            buckets.retain(|_, b| now.saturating_duration_since(b.last) < FORGET_AFTER);
            if buckets.len() >= MAX_CLIENTS {
                key = Key::Shared;
            }
        }
        let burst = f64::from(self.limit.burst);
        let per_sec = f64::from(self.limit.per_minute) / 60.0;
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: burst,
            last: now,
        });
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_sec).min(burst);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Seconds until one more request is allowed at the configured rate.
    fn retry_after_secs(&self) -> u64 {
        (60 / u64::from(self.limit.per_minute.max(1))).max(1)
    }
}

/// Middleware: 429 with `Retry-After` when the client's bucket is empty. The client address comes
/// from `ConnectInfo` when the server provides it.
pub async fn enforce(
    State(limiter): State<Arc<RateLimiter>>,
    request: Request,
    next: Next,
) -> Response {
    let addr = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip());
    if limiter.allow(addr, Instant::now()) {
        next.run(request).await
    } else {
        (
            StatusCode::TOO_MANY_REQUESTS,
            [(RETRY_AFTER, limiter.retry_after_secs().to_string())],
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: Limit = Limit {
        burst: 3,
        per_minute: 60,
    };

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn a_client_gets_its_burst_then_one_request_per_refill() {
        let l = RateLimiter::new(LIMIT);
        let t0 = Instant::now();
        assert!((0..3).all(|_| l.allow(ip("192.0.2.1"), t0)));
        assert!(!l.allow(ip("192.0.2.1"), t0));
        assert!(!l.allow(ip("192.0.2.1"), t0 + Duration::from_millis(500)));
        assert!(l.allow(ip("192.0.2.1"), t0 + Duration::from_millis(1500)));
    }

    #[test]
    fn clients_do_not_share_buckets() {
        let l = RateLimiter::new(LIMIT);
        let t0 = Instant::now();
        assert!((0..3).all(|_| l.allow(ip("192.0.2.1"), t0)));
        assert!(l.allow(ip("192.0.2.2"), t0));
    }

    #[test]
    fn an_ipv6_client_cannot_escape_by_changing_its_interface_id() {
        let l = RateLimiter::new(LIMIT);
        let t0 = Instant::now();
        assert!(l.allow(ip("2001:db8::1"), t0));
        assert!(l.allow(ip("2001:db8::2"), t0));
        assert!(l.allow(ip("2001:db8::3"), t0));
        assert!(!l.allow(ip("2001:db8::4"), t0));
        assert!(l.allow(ip("2001:db8:0:1::1"), t0));
    }

    #[test]
    fn an_ipv4_mapped_address_is_the_same_client_as_its_ipv4_form() {
        let l = RateLimiter::new(LIMIT);
        let t0 = Instant::now();
        assert!((0..3).all(|_| l.allow(ip("192.0.2.9"), t0)));
        assert!(!l.allow(ip("::ffff:192.0.2.9"), t0));
    }

    #[test]
    fn the_bucket_never_holds_more_than_its_burst() {
        let l = RateLimiter::new(LIMIT);
        let t0 = Instant::now();
        assert!(l.allow(None, t0));
        let later = t0 + Duration::from_secs(3600);
        assert!((0..3).all(|_| l.allow(None, later)));
        assert!(!l.allow(None, later));
    }
}
