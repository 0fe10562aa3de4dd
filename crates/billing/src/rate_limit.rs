//! How often one client may use each payment route. The buckets themselves are
//! `client_identity::RateLimiter`'s (bounded, least recently used forgotten first, never logged).

use client_identity::Limit;

/// Checkout: each opens a payment at YooKassa, so a person needs a few, not hundreds.
pub const CHECKOUT_LIMIT: Limit = Limit {
    burst: 10,
    per_minute: 12,
};

/// Return page: a person reloads it a few times.
pub const RETURN_LIMIT: Limit = Limit {
    burst: 20,
    per_minute: 60,
};

/// Webhook: YooKassa sends from few addresses, sometimes in bursts.
pub const WEBHOOK_LIMIT: Limit = Limit {
    burst: 200,
    per_minute: 3_000,
};
