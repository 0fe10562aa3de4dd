//! Per-address token buckets for the payment routes. Addresses stay in memory only, are never
//! logged, and are forgotten once their bucket is full again.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many addresses are tracked; past that, newcomers share one bucket.
const MAX_TRACKED: usize = 10_000;

#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub burst: f64,
    pub per_second: f64,
}

/// Checkout: each opens a payment at YooKassa, so a person needs a few, not hundreds.
pub const CHECKOUT_LIMIT: Limit = Limit {
    burst: 10.0,
    per_second: 0.2,
};

/// Return page: a person reloads it a few times.
pub const RETURN_LIMIT: Limit = Limit {
    burst: 20.0,
    per_second: 1.0,
};

/// Webhook: YooKassa sends from few addresses, sometimes in bursts.
pub const WEBHOOK_LIMIT: Limit = Limit {
    burst: 200.0,
    per_second: 50.0,
};

pub struct RateLimiter {
    limit: Limit,
    buckets: Mutex<HashMap<Option<IpAddr>, (f64, Instant)>>,
}

impl RateLimiter {
    pub fn new(limit: Limit) -> Self {
        Self {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `addr`'s bucket; `false` means too many.
    pub fn allow(&self, addr: IpAddr, now: Instant) -> bool {
        // A poisoned lock only means a panic elsewhere mid-update; the counts stay usable.
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let refill = Duration::from_secs_f64(self.limit.burst / self.limit.per_second);
        if buckets.len() >= MAX_TRACKED {
            buckets.retain(|_, (_, last)| now.duration_since(*last) < refill);
        }
        let mut key = Some(addr.to_canonical());
        if !buckets.contains_key(&key) && buckets.len() >= MAX_TRACKED {
            key = None;
        }
        let (tokens, last) = buckets.entry(key).or_insert((self.limit.burst, now));
        let gained = now.duration_since(*last).as_secs_f64() * self.limit.per_second;
        *tokens = (*tokens + gained).min(self.limit.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_refused_then_refilled() {
        let l = RateLimiter::new(Limit {
            burst: 2.0,
            per_second: 1.0,
        });
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let t = Instant::now();
        assert!(l.allow(a, t));
        assert!(l.allow(a, t));
        assert!(!l.allow(a, t));
        assert!(l.allow(b, t), "buckets are per address");
        assert!(l.allow(a, t + Duration::from_secs(1)));
    }
}
