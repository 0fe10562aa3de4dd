//! Headers and limits every response and request gets, whatever the route: the site is also
//! what scanners probing the VPN node see, so it must look like a careful ordinary web server.

use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::{HeaderName, HeaderValue};
use axum::Router;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;

/// No scripts, no frames, no third-party anything; styles and images only from the site itself.
pub const CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'none'; style-src 'self'; \
     img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The card checkout page's policy: the site's, but its form's answer may redirect to the payment
/// provider's page (browsers check `form-action` on redirects too).
pub const CHECKOUT_CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'none'; style-src 'self'; \
     img-src 'self' data:; form-action 'self' https:; base-uri 'none'; frame-ancestors 'none'";

/// The sign-in return page's policy: the site's, plus its one first-party script (which reads
/// Telegram's result from the fragment and posts it here). Still nothing from other sites.
pub const LOGIN_RETURN_CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'none'; \
     script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
     base-uri 'none'; frame-ancestors 'none'";

/// Browser features the site never uses, switched off for it and anything it could embed.
pub const PERMISSIONS_POLICY_VALUE: &str = "accelerometer=(), camera=(), geolocation=(), \
     gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()";

/// The largest request body accepted (payment notifications are a few kilobytes).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Browsers remember to use HTTPS for a year; sent only when the site is served over TLS.
const HSTS_VALUE: &str = "max-age=31536000";

/// Refuses request bodies over [`MAX_BODY_BYTES`] with 413.
pub fn limit_body<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router.layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
}

/// Adds the security headers to every response that does not set its own.
pub fn headers<S: Clone + Send + Sync + 'static>(router: Router<S>, secure: bool) -> Router<S> {
    let header = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    let router = router
        .layer(header(
            CONTENT_SECURITY_POLICY,
            CONTENT_SECURITY_POLICY_VALUE,
        ))
        .layer(header(X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header(REFERRER_POLICY, "no-referrer"))
        .layer(header(X_FRAME_OPTIONS, "DENY"))
        .layer(header(
            HeaderName::from_static("permissions-policy"),
            PERMISSIONS_POLICY_VALUE,
        ))
        .layer(header(
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ));
    if secure {
        router.layer(header(STRICT_TRANSPORT_SECURITY, HSTS_VALUE))
    } else {
        router
    }
}
