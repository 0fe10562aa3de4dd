//! Per-client token buckets in a bounded table: past its size the least recently seen client is
//! forgotten (its next request starts with a full bucket, which errs on the side of the client),
//! so many addresses can neither grow memory nor push newcomers into a shared, drained bucket.

use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::Instant;

use lru::LruCache;

use crate::ClientKey;

/// How many clients one limiter remembers unless told otherwise: about 64 bytes each.
pub const DEFAULT_MAX_CLIENTS: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Requests a client may make at once.
    pub burst: u32,
    /// Requests a client regains per minute.
    pub per_minute: u32,
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

pub struct RateLimiter {
    limit: Limit,
    buckets: Mutex<LruCache<ClientKey, Bucket>>,
}

impl RateLimiter {
    /// A limiter remembering at most [`DEFAULT_MAX_CLIENTS`] clients.
    pub fn new(limit: Limit) -> Self {
        Self::with_capacity(limit, DEFAULT_MAX_CLIENTS)
    }

    /// A limiter remembering at most `max_clients` (at least one).
    pub fn with_capacity(limit: Limit, max_clients: usize) -> Self {
        Self {
            limit,
            buckets: Mutex::new(LruCache::new(
                NonZeroUsize::new(max_clients).unwrap_or(NonZeroUsize::MIN),
            )),
        }
    }

    /// Takes one request from `client`'s bucket; `false` means "too many, wait".
    pub fn allow(&self, client: ClientKey, now: Instant) -> bool {
        // A poisoned lock only means another request panicked mid-update; the counts stay usable.
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let burst = f64::from(self.limit.burst);
        let per_sec = f64::from(self.limit.per_minute) / 60.0;
        // `get_or_insert_mut` marks the client most recently used and evicts the least recently
        // used one when the table is full.
        let bucket = buckets.get_or_insert_mut(client, || Bucket {
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

    /// Seconds until one more request is allowed at the configured rate (for `Retry-After`).
    pub fn retry_after_secs(&self) -> u64 {
        (60 / u64::from(self.limit.per_minute.max(1))).max(1)
    }

    /// How many clients are remembered now.
    pub fn tracked(&self) -> usize {
        self.buckets.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;
    use std::time::Duration;

    use super::*;

    const LIMIT: Limit = Limit {
        burst: 3,
        per_minute: 60,
    };

    fn key(s: &str) -> ClientKey {
        ClientKey::of(s.parse::<IpAddr>().unwrap())
    }

    #[test]
    fn a_client_gets_its_burst_then_one_request_per_refill() {
        let l = RateLimiter::new(LIMIT);
        let t0 = Instant::now();
        assert!((0..3).all(|_| l.allow(key("192.0.2.1"), t0)));
        assert!(!l.allow(key("192.0.2.1"), t0));
        assert!(!l.allow(key("192.0.2.1"), t0 + Duration::from_millis(500)));
        assert!(l.allow(key("192.0.2.1"), t0 + Duration::from_millis(1500)));
    }

    #[test]
    fn clients_do_not_share_buckets() {
        let l = RateLimiter::new(LIMIT);
        let t0 = Instant::now();
        assert!((0..3).all(|_| l.allow(key("192.0.2.1"), t0)));
        assert!(l.allow(key("192.0.2.2"), t0));
    }

    #[test]
    fn an_ipv6_client_cannot_escape_by_changing_its_interface_id() {
        let l = RateLimiter::new(LIMIT);
        let t0 = Instant::now();
        assert!(l.allow(key("2001:db8::1"), t0));
        assert!(l.allow(key("2001:db8::2"), t0));
        assert!(l.allow(key("2001:db8::3"), t0));
        assert!(!l.allow(key("2001:db8::4"), t0));
        assert!(l.allow(key("2001:db8:0:1::1"), t0));
    }

    #[test]
    fn the_bucket_never_holds_more_than_its_burst() {
        let l = RateLimiter::new(LIMIT);
        let t0 = Instant::now();
        assert!(l.allow(key("192.0.2.1"), t0));
        let later = t0 + Duration::from_secs(3600);
        assert!((0..3).all(|_| l.allow(key("192.0.2.1"), later)));
        assert!(!l.allow(key("192.0.2.1"), later));
    }

    #[test]
    fn the_table_stays_bounded_and_forgets_the_least_recently_used_client() {
        let l = RateLimiter::with_capacity(LIMIT, 2);
        let t0 = Instant::now();
        // a and b drain their buckets; a is then seen again, so b is the least recently used.
        assert!((0..3).all(|_| l.allow(key("192.0.2.1"), t0)));
        assert!((0..3).all(|_| l.allow(key("192.0.2.2"), t0)));
        assert!(!l.allow(key("192.0.2.1"), t0));
        // A third client pushes b out, not a.
        assert!(l.allow(key("192.0.2.3"), t0));
        assert_eq!(l.tracked(), 2);
        assert!(
            !l.allow(key("192.0.2.1"), t0),
            "a is still remembered as drained"
        );
        assert!(
            l.allow(key("192.0.2.2"), t0),
            "b was forgotten: a full bucket again"
        );
        assert_eq!(l.tracked(), 2);
    }

    #[test]
    fn many_addresses_never_lock_out_a_newcomer() {
        let l = RateLimiter::with_capacity(LIMIT, 100);
        let t0 = Instant::now();
        for i in 0..1000u32 {
            let ip = IpAddr::from((0xC633_6400u32 + i).to_be_bytes());
            while l.allow(ClientKey::of(ip), t0) {}
        }
        assert_eq!(l.tracked(), 100);
        assert!(l.allow(key("203.0.113.200"), t0));
    }
}
