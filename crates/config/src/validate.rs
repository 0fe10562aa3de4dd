//! Checks that go beyond types: URLs, plans, secrets that must come in pairs, policy limits.

use std::collections::HashSet;

use crate::Config;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invalid {
    pub key: String,
    pub message: String,
}

pub(crate) fn invalid(key: impl Into<String>, message: impl Into<String>) -> Invalid {
    Invalid {
        key: key.into(),
        message: message.into(),
    }
}

/// `[node] transports` and `[node.http] path`: only what this build serves, each once, at
/// least one, and over REALITY only tcp, xhttp and grpc; an HTTP transport needs a secret path
/// that is URL-safe as it stands.
fn transports(node: &crate::NodeSection) -> Result<(), Invalid> {
    use crate::NodeTransport;
    if node.transports.is_empty() {
        return Err(invalid(
            "node.transports",
            "must name at least one transport",
        ));
    }
    let mut seen = HashSet::new();
    for t in &node.transports {
        if !t.supported() {
            return Err(invalid(
                "node.transports",
                format!("\"{}\" is not yet supported by this build", t.name()),
            ));
        }
        if !seen.insert(*t) {
            return Err(invalid(
                "node.transports",
                format!("\"{}\" is listed twice", t.name()),
            ));
        }
        if node.security == crate::NodeSecurityKind::Reality && !t.over_reality() {
            return Err(invalid(
                "node.transports",
                format!(
                    "\"{}\" works over security = \"tls\" only; over REALITY: tcp, xhttp, grpc",
                    t.name()
                ),
            ));
        }
    }
    let http = node.transports.iter().any(|t| *t != NodeTransport::Tcp);
    let path = &node.http.path;
    if http && path.is_empty() {
        return Err(invalid(
            "node.http.path",
            "must be set for ws, httpupgrade, xhttp and grpc (`milly init` generates one)",
        ));
    }
    if let Some(listen) = node.http.listen {
        if !http {
            return Err(invalid(
                "node.http.listen",
                "serves only the HTTP transports: list one of them in [node] transports",
            ));
        }
        if listen == node.listen {
            return Err(invalid(
                "node.http.listen",
                "must differ from [node] listen (it is plain HTTP, for a proxy in front)",
            ));
        }
    }
    if !path.is_empty() {
        let safe = |ch: char| ch.is_ascii_alphanumeric() || "-._~/".contains(ch);
        if !path.starts_with('/') || path.len() < 2 || !path.chars().all(safe) {
            return Err(invalid(
                "node.http.path",
                "must start with / and hold only letters, digits and - . _ ~ /",
            ));
        }
    }
    Ok(())
}

/// The privacy policy promises data is kept at most three years after the service ends.
const MAX_RETENTION_DAYS: u32 = 1095;

/// The website's timeouts are seconds to minutes; a day is surely a typo.
const MAX_WEB_TIMEOUT_SECS: u64 = 86_400;

pub(crate) fn validate(c: &Config) -> Result<(), Invalid> {
    if c.service.name.trim().is_empty() {
        return Err(invalid("service.name", "must not be empty"));
    }
    if !c.service.support_email.is_empty()
        && c.service.support_email.parse::<domain::Email>().is_err()
    {
        return Err(invalid(
            "service.support_email",
            "not a valid email address",
        ));
    }
    database_url(c.database.url.expose())?;

    web(c)?;

    let node = &c.node;
    if node.enabled {
        if node.name.trim().is_empty() {
            return Err(invalid("node.name", "must not be empty"));
        }
        if node.public_host.trim().is_empty() {
            return Err(invalid(
                "node.public_host",
                "must be set: the host clients connect to",
            ));
        }
        if node.location.is_empty() || !node.location.chars().all(|ch| ch.is_ascii_uppercase()) {
            return Err(invalid(
                "node.location",
                "must be an upper-case code such as RU or EU",
            ));
        }
        if node.tls.cert.is_some() != node.tls.key.is_some() {
            return Err(invalid("node.tls", "`cert` and `key` must be set together"));
        }
        if node.security == crate::NodeSecurityKind::Reality {
            reality(&node.reality)?;
        }
        transports(node)?;
        if node.handshake_timeout_secs == 0 {
            return Err(invalid("node.handshake_timeout_secs", "must be at least 1"));
        }
        if node.idle_timeout_secs == 0 {
            return Err(invalid("node.idle_timeout_secs", "must be at least 1"));
        }
        for (key, value) in [
            ("node.max_connections", node.max_connections),
            ("node.max_mux_sessions", node.max_mux_sessions),
            ("node.max_sockets_per_user", node.max_sockets_per_user),
            (
                "node.max_handshakes_per_source",
                node.max_handshakes_per_source,
            ),
            ("node.max_connects_in_flight", node.max_connects_in_flight),
            (
                "node.fallback_idle_timeout_secs",
                node.fallback_idle_timeout_secs as usize,
            ),
            (
                "node.fallback_max_lifetime_secs",
                node.fallback_max_lifetime_secs as usize,
            ),
        ] {
            if value == 0 {
                return Err(invalid(key, "must be at least 1"));
            }
        }
        // Mux.Cool session ids are 16 bits.
        if node.max_mux_sessions > usize::from(u16::MAX) {
            return Err(invalid("node.max_mux_sessions", "must be at most 65535"));
        }
        if node.listen == c.web.listen {
            return Err(invalid("node.listen", "must differ from web.listen"));
        }
    }

    http_url("telegram.api_url", &c.telegram.api_url)?;
    let token = c.telegram.token.expose();
    if !token.is_empty() && !looks_like_bot_token(token) {
        return Err(invalid(
            "telegram.token",
            "not a bot token from @BotFather (digits:letters)",
        ));
    }
    if !c.telegram.webhook_url.is_empty() {
        let u = http_url("telegram.webhook_url", &c.telegram.webhook_url)?;
        if u.scheme() != "https" {
            return Err(invalid(
                "telegram.webhook_url",
                "Telegram requires an https URL",
            ));
        }
    }

    if c.telegram.reminder_days.iter().any(|d| *d == 0 || *d > 365) {
        return Err(invalid(
            "telegram.reminder_days",
            "each must be between 1 and 365",
        ));
    }

    http_url("yookassa.api_url", &c.yookassa.api_url)?;
    if c.yookassa.enabled {
        if !c.yookassa.shop_id.is_set() {
            return Err(invalid(
                "yookassa.shop_id",
                "required when yookassa.enabled = true",
            ));
        }
        if !c.yookassa.secret_key.is_set() {
            return Err(invalid(
                "yookassa.secret_key",
                "required when yookassa.enabled = true",
            ));
        }
    }
    if !c.yookassa.receipt_email.is_empty()
        && c.yookassa.receipt_email.parse::<domain::Email>().is_err()
    {
        return Err(invalid(
            "yookassa.receipt_email",
            "not a valid email address",
        ));
    }

    let mut ids = HashSet::new();
    for (i, plan) in c.plans.iter().enumerate() {
        let key = |k: &str| format!("plans[{i}].{k}");
        let id_ok = !plan.id.is_empty()
            && plan.id.len() <= 32
            && plan
                .id
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-' || ch == '_');
        if !id_ok {
            return Err(invalid(key("id"), "1-32 characters of a-z, 0-9, - and _"));
        }
        if plan.id == domain::TRIAL_PLAN_ID {
            return Err(invalid(key("id"), "`trial` is reserved for the free trial"));
        }
        if !ids.insert(plan.id.as_str()) {
            return Err(invalid(
                key("id"),
                format!("plan `{}` is defined twice", plan.id),
            ));
        }
        if plan.days == 0 || plan.days > domain::Days::MAX.0 {
            return Err(invalid(
                key("days"),
                format!("must be between 1 and {}", domain::Days::MAX.0),
            ));
        }
        if plan.price_rub.is_none() && plan.price_stars.is_none() {
            return Err(invalid(
                key("price_rub"),
                "a plan needs price_rub, price_stars or both",
            ));
        }
        if plan.price_rub.is_some_and(|p| p.kopecks == 0) {
            return Err(invalid(key("price_rub"), "must be more than 0"));
        }
        if plan.price_stars == Some(0) {
            return Err(invalid(key("price_stars"), "must be more than 0"));
        }
    }
    for (i, rule) in c.subscription.rules.iter().enumerate() {
        if rule.user_agent.trim().is_empty() {
            return Err(invalid(
                format!("subscription.rules[{i}].user_agent"),
                "must not be empty",
            ));
        }
        if !crate::SUBSCRIPTION_FORMATS.contains(&rule.format.as_str()) {
            return Err(invalid(
                format!("subscription.rules[{i}].format"),
                format!("must be one of {}", crate::SUBSCRIPTION_FORMATS.join(", ")),
            ));
        }
    }
    if c.trial.days > domain::Days::MAX.0 {
        return Err(invalid(
            "trial.days",
            format!("must be at most {}", domain::Days::MAX.0),
        ));
    }
    for (key, days) in [
        ("referrals.reward_days", c.referrals.reward_days),
        ("referrals.welcome_days", c.referrals.welcome_days),
    ] {
        if days > domain::Days::MAX.0 {
            return Err(invalid(
                key,
                format!("must be at most {}", domain::Days::MAX.0),
            ));
        }
    }
    if c.privacy.retention_days == 0 || c.privacy.retention_days > MAX_RETENTION_DAYS {
        return Err(invalid(
            "privacy.retention_days",
            format!("must be between 1 and {MAX_RETENTION_DAYS} (the privacy policy's 3 years)"),
        ));
    }
    for (i, r) in c.backup.recipients.iter().enumerate() {
        if !r.starts_with("age1") || r.len() < 20 {
            return Err(invalid(
                format!("backup.recipients[{i}]"),
                "not an age public key (age1...)",
            ));
        }
    }
    if c.backup.keep == 0 {
        return Err(invalid("backup.keep", "must be at least 1"));
    }
    crate::remote_nodes::validate(&c.nodes)?;
    Ok(())
}

/// `host:port` (or `[v6]:port`) with a host and a port above 0, else `message` for `key`.
pub(crate) fn host_port(key: &str, value: &str, message: &str) -> Result<(), Invalid> {
    let Some((host, port)) = value.rsplit_once(':') else {
        return Err(invalid(key, message));
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || !port.parse::<u16>().is_ok_and(|p| p > 0) {
        return Err(invalid(key, message));
    }
    Ok(())
}

fn web(c: &Config) -> Result<(), Invalid> {
    let w = &c.web;
    for (key, secs) in [
        ("web.header_read_timeout_secs", w.header_read_timeout_secs),
        ("web.keepalive_idle_secs", w.keepalive_idle_secs),
        ("web.request_timeout_secs", w.request_timeout_secs),
    ] {
        if secs == 0 || secs > MAX_WEB_TIMEOUT_SECS {
            return Err(invalid(
                key,
                format!("must be between 1 and {MAX_WEB_TIMEOUT_SECS}"),
            ));
        }
    }
    if w.max_connections == 0 {
        return Err(invalid("web.max_connections", "must be at least 1"));
    }
    acme(c)?;
    let legacy = c.yookassa.trusted_proxy_header.trim();
    if !legacy.is_empty() {
        let Ok(header) = legacy.parse::<client_identity::ForwardedHeader>() else {
            return Err(invalid(
                "yookassa.trusted_proxy_header",
                "not an HTTP header name such as X-Forwarded-For",
            ));
        };
        if !w.trusted_proxies.is_empty() && header != w.forwarded_header {
            return Err(invalid(
                "yookassa.trusted_proxy_header",
                "must name the same header as web.forwarded_header (or be empty) when web.trusted_proxies is set",
            ));
        }
    }
    Ok(())
}

/// `[web] tls = "acme"` needs a domain a CA can validate, an https directory and two
/// distinct listeners.
fn acme(c: &Config) -> Result<(), Invalid> {
    let w = &c.web;
    if w.tls != crate::WebTls::Acme {
        return Ok(());
    }
    if !is_dns_name(&w.domain) {
        return Err(invalid(
            "web.domain",
            "must be a DNS name such as vpn.example.com when web.tls = \"acme\"",
        ));
    }
    if http_url("web.acme_directory", &w.acme_directory)?.scheme() != "https" {
        return Err(invalid("web.acme_directory", "must be an https:// URL"));
    }
    if !w.acme_email.is_empty() && w.acme_email.parse::<domain::Email>().is_err() {
        return Err(invalid("web.acme_email", "not a valid email address"));
    }
    for (key, addr) in [
        ("web.https_listen", w.https_listen),
        ("web.http_listen", w.http_listen),
    ] {
        if addr == w.listen || (c.node.enabled && addr == c.node.listen) {
            return Err(invalid(key, "must differ from web.listen and node.listen"));
        }
    }
    if w.https_listen == w.http_listen {
        return Err(invalid(
            "web.http_listen",
            "must differ from web.https_listen",
        ));
    }
    Ok(())
}

/// Letters, digits and hyphens in dot-separated labels, at least two of them (no IP address:
/// CAs validate names).
fn is_dns_name(name: &str) -> bool {
    let labels: Vec<&str> = name.split('.').collect();
    labels.len() >= 2
        && name.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        && labels
            .last()
            .is_some_and(|tld| !tld.bytes().all(|b| b.is_ascii_digit()))
}

fn reality(r: &crate::NodeRealityConfig) -> Result<(), Invalid> {
    use base64::Engine as _;
    let key =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(r.private_key.expose().trim());
    if !matches!(key, Ok(k) if k.len() == 32) {
        return Err(invalid(
            "node.reality.private_key",
            "must be an X25519 private key in URL-safe base64 (run `milly keygen reality`)",
        ));
    }
    if r.mldsa65_seed.is_set() {
        let seed =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(r.mldsa65_seed.expose().trim());
        if !matches!(seed, Ok(s) if s.len() == 32) {
            return Err(invalid(
                "node.reality.mldsa65_seed",
                "must be a 32-byte ML-DSA-65 seed in URL-safe base64 without padding, 43 characters (run `milly keygen reality`), or empty",
            ));
        }
        if r.mldsa65_seed.expose().trim() == r.private_key.expose().trim() {
            return Err(invalid(
                "node.reality.mldsa65_seed",
                "must differ from private_key",
            ));
        }
    }
    if r.short_ids.is_empty() {
        return Err(invalid(
            "node.reality.short_ids",
            "needs at least one short id",
        ));
    }
    for (i, id) in r.short_ids.iter().enumerate() {
        if id.len() > 16 || id.len() % 2 != 0 || !id.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(invalid(
                format!("node.reality.short_ids[{i}]"),
                "an even number (0-16) of hex digits",
            ));
        }
    }
    host_port(
        "node.reality.dest",
        &r.dest,
        "must be host:port of a TLS 1.3 website",
    )?;
    if r.server_names.iter().any(|n| n.trim().is_empty()) {
        return Err(invalid(
            "node.reality.server_names",
            "names must not be empty",
        ));
    }
    Ok(())
}

fn http_url(key: &str, value: &str) -> Result<url::Url, Invalid> {
    let u = url::Url::parse(value).map_err(|e| invalid(key, format!("not a URL ({e})")))?;
    if !matches!(u.scheme(), "http" | "https") || u.host().is_none() {
        return Err(invalid(key, "must be an http:// or https:// URL"));
    }
    Ok(u)
}

fn database_url(value: &str) -> Result<(), Invalid> {
    const KEY: &str = "database.url";
    if value.starts_with("sqlite:") {
        return Ok(());
    }
    let u = url::Url::parse(value).map_err(|e| invalid(KEY, format!("not a URL ({e})")))?;
    match u.scheme() {
        "postgres" | "postgresql" if u.host().is_some() => Ok(()),
        "postgres" | "postgresql" => Err(invalid(KEY, "a PostgreSQL URL needs a host")),
        other => Err(invalid(
            KEY,
            format!("unsupported database `{other}`: use sqlite:// or postgres://"),
        )),
    }
}

fn looks_like_bot_token(token: &str) -> bool {
    match token.split_once(':') {
        Some((id, secret)) => {
            !id.is_empty()
                && id.chars().all(|c| c.is_ascii_digit())
                && secret.len() >= 30
                && secret
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PlanConfig, Rubles};

    fn ok() -> Config {
        let mut c = Config::default();
        c.database.url = crate::DatabaseUrl::new("sqlite://x.db");
        c
    }

    #[test]
    fn the_defaults_are_valid() {
        assert_eq!(validate(&ok()), Ok(()));
    }

    #[test]
    fn duplicate_plan_ids_are_refused() {
        let mut c = ok();
        c.plans.push(c.plans[0].clone());
        assert_eq!(validate(&c).unwrap_err().key, "plans[2].id");
    }

    #[test]
    fn a_plan_without_any_price_is_refused() {
        let mut c = ok();
        c.plans = vec![PlanConfig {
            id: "x".into(),
            days: 30,
            price_rub: None,
            price_stars: None,
        }];
        assert_eq!(validate(&c).unwrap_err().key, "plans[0].price_rub");
        c.plans[0].price_rub = Some(Rubles { kopecks: 100 });
        assert_eq!(validate(&c), Ok(()));
    }

    #[test]
    fn retention_beyond_the_policy_is_refused() {
        let mut c = ok();
        c.privacy.retention_days = 1096;
        assert_eq!(validate(&c).unwrap_err().key, "privacy.retention_days");
    }

    #[test]
    fn yookassa_needs_credentials_when_enabled() {
        let mut c = ok();
        c.yookassa.enabled = true;
        assert_eq!(validate(&c).unwrap_err().key, "yookassa.shop_id");
    }

    #[test]
    fn bot_tokens_are_checked_for_shape() {
        assert!(looks_like_bot_token(
            "123456:ABCdefGHIjklMNOpqrSTUvwxYZ0123456789"
        ));
        assert!(!looks_like_bot_token("hello"));
        assert!(!looks_like_bot_token(
            "abc:ABCdefGHIjklMNOpqrSTUvwxYZ0123456789"
        ));
    }

    #[test]
    fn transports_are_only_those_served_and_http_ones_need_a_safe_path() {
        use crate::NodeTransport::*;
        let mut c = ok();
        c.node.transports = vec![Tcp, Ws, Httpupgrade];
        assert_eq!(validate(&c).unwrap_err().key, "node.http.path");
        c.node.http.path = "/a1-B2".into();
        assert_eq!(validate(&c), Ok(()));
        for bad in ["a1", "/", "/a b", "/a?ed=1", "/%2e"] {
            c.node.http.path = bad.into();
            assert_eq!(validate(&c).unwrap_err().key, "node.http.path", "{bad}");
        }
        c.node.http.path = "/a1".into();
        c.node.transports = vec![Tcp, Xhttp, Ws, Grpc, Httpupgrade];
        assert_eq!(validate(&c), Ok(()));
        c.node.transports = vec![Grpc];
        c.node.http.path = String::new();
        assert_eq!(validate(&c).unwrap_err().key, "node.http.path");
        c.node.http.path = "/a1".into();
        c.node.transports = vec![Tcp, Tcp];
        assert_eq!(validate(&c).unwrap_err().key, "node.transports");
        c.node.transports = vec![Tcp];
        c.node.http.listen = Some("127.0.0.1:10080".parse().unwrap());
        assert_eq!(validate(&c).unwrap_err().key, "node.http.listen");
        c.node.transports = vec![Tcp, Httpupgrade];
        assert_eq!(validate(&c), Ok(()));
        c.node.http.listen = Some(c.node.listen);
        assert_eq!(validate(&c).unwrap_err().key, "node.http.listen");
        c.node.http.listen = None;
        c.node.transports = vec![];
        assert_eq!(validate(&c).unwrap_err().key, "node.transports");
        c.node.transports = vec![Tcp, Ws];
        c.node.security = crate::NodeSecurityKind::Reality;
        c.node.reality.private_key =
            crate::Secret::new("SL2oS5M7XTc0bFvhcMKsjb1qCrfWsZ0PtnbScjvdeUE");
        c.node.reality.short_ids = vec!["6ba85179e30d4fc2".into()];
        c.node.reality.dest = "www.example.com:443".into();
        for refused in [Ws, Httpupgrade] {
            c.node.transports = vec![Tcp, refused];
            let err = validate(&c).unwrap_err();
            assert_eq!(err.key, "node.transports");
            assert!(err.message.contains("tls"), "{}", err.message);
        }
        c.node.transports = vec![Tcp];
        assert_eq!(validate(&c), Ok(()));
        // XHTTP and gRPC are what Xray carries over REALITY.
        c.node.transports = vec![Xhttp, Tcp, Grpc];
        assert_eq!(validate(&c), Ok(()));
        assert_eq!(c.node.transport_path(Ws).as_deref(), Some("/a1/ws"));
        assert_eq!(
            c.node.transport_path(Httpupgrade).as_deref(),
            Some("/a1/up")
        );
        assert_eq!(c.node.transport_path(Xhttp).as_deref(), Some("/a1/xh"));
        assert_eq!(c.node.transport_path(Tcp), None);
        assert_eq!(c.node.transport_path(Grpc), None);
        assert_eq!(c.node.grpc_service_name(), "a1.grpc");
    }

    #[test]
    fn grpc_service_names_join_the_prefix_segments_with_dots_and_hold_no_slash() {
        for (prefix, name) in [
            ("/s3cret", "s3cret.grpc"),
            ("/s3cret/", "s3cret.grpc"),
            ("/a//b-c/d.e", "a.b-c.d.e.grpc"),
        ] {
            assert_eq!(crate::grpc_service_name(prefix), name, "{prefix}");
        }
    }

    #[test]
    fn a_reality_node_needs_a_key_short_ids_and_dest() {
        let mut c = ok();
        c.node.security = crate::NodeSecurityKind::Reality;
        assert_eq!(validate(&c).unwrap_err().key, "node.reality.private_key");
        c.node.reality.private_key =
            crate::Secret::new("SL2oS5M7XTc0bFvhcMKsjb1qCrfWsZ0PtnbScjvdeUE");
        assert_eq!(validate(&c).unwrap_err().key, "node.reality.short_ids");
        c.node.reality.short_ids = vec!["6ba85179e30d4fc2".into(), "".into()];
        assert_eq!(validate(&c).unwrap_err().key, "node.reality.dest");
        c.node.reality.dest = "www.example.com:443".into();
        assert_eq!(validate(&c), Ok(()));
        c.node.reality.short_ids.push("abc".into());
        assert_eq!(validate(&c).unwrap_err().key, "node.reality.short_ids[2]");
        c.node.reality.short_ids.pop();
        c.node.reality.mldsa65_seed = crate::Secret::new("AQEBAQEBAQEBAQEB");
        assert_eq!(validate(&c).unwrap_err().key, "node.reality.mldsa65_seed");
        c.node.reality.mldsa65_seed = c.node.reality.private_key.clone();
        assert_eq!(validate(&c).unwrap_err().key, "node.reality.mldsa65_seed");
        c.node.reality.mldsa65_seed =
            crate::Secret::new("AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE");
        assert_eq!(validate(&c), Ok(()));
    }

    #[test]
    fn website_budgets_must_be_positive() {
        let mut c = ok();
        c.web.header_read_timeout_secs = 0;
        assert_eq!(
            validate(&c).unwrap_err().key,
            "web.header_read_timeout_secs"
        );
        c = ok();
        c.web.keepalive_idle_secs = 0;
        assert_eq!(validate(&c).unwrap_err().key, "web.keepalive_idle_secs");
        c = ok();
        c.web.request_timeout_secs = 0;
        assert_eq!(validate(&c).unwrap_err().key, "web.request_timeout_secs");
        c = ok();
        c.web.max_connections = 0;
        assert_eq!(validate(&c).unwrap_err().key, "web.max_connections");
    }

    #[test]
    fn the_old_proxy_header_must_agree_with_the_new_one() {
        let mut c = ok();
        c.yookassa.trusted_proxy_header = "not a header".into();
        assert_eq!(
            validate(&c).unwrap_err().key,
            "yookassa.trusted_proxy_header"
        );
        c.yookassa.trusted_proxy_header = "X-Real-IP".into();
        assert_eq!(validate(&c), Ok(()));
        c.web.trusted_proxies = vec!["10.0.0.0/8".parse().unwrap()];
        assert_eq!(
            validate(&c).unwrap_err().key,
            "yookassa.trusted_proxy_header"
        );
        c.yookassa.trusted_proxy_header = "x-forwarded-for".into();
        assert_eq!(validate(&c), Ok(()));
    }

    #[test]
    fn the_old_proxy_header_trusts_a_proxy_on_this_host() {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        let mut h = http::HeaderMap::new();
        h.insert("x-real-ip", "192.0.2.5".parse().unwrap());
        let mut c = ok();
        assert_eq!(
            c.client_identity().client(ip("127.0.0.1"), &h),
            ip("127.0.0.1")
        );
        c.yookassa.trusted_proxy_header = "X-Real-IP".into();
        let id = c.client_identity();
        assert_eq!(id.client(ip("127.0.0.1"), &h), ip("192.0.2.5"));
        assert_eq!(id.client(ip("203.0.113.1"), &h), ip("203.0.113.1"));
    }

    #[test]
    fn node_caps_must_be_at_least_one_and_mux_sessions_fit_sixteen_bits() {
        let mut c = ok();
        c.node.max_sockets_per_user = 0;
        assert_eq!(validate(&c).unwrap_err().key, "node.max_sockets_per_user");
        let mut c = ok();
        c.node.fallback_max_lifetime_secs = 0;
        assert_eq!(
            validate(&c).unwrap_err().key,
            "node.fallback_max_lifetime_secs"
        );
        let mut c = ok();
        c.node.max_mux_sessions = 70_000;
        assert_eq!(validate(&c).unwrap_err().key, "node.max_mux_sessions");
        c.node.max_mux_sessions = 65_535;
        assert!(validate(&c).is_ok());
    }

    #[test]
    fn acme_needs_a_dns_name_an_https_directory_and_listeners_of_its_own() {
        let mut c = ok();
        c.web.tls = crate::WebTls::Acme;
        assert_eq!(validate(&c).unwrap_err().key, "web.domain");
        c.web.domain = "127.0.0.1".into();
        assert_eq!(validate(&c).unwrap_err().key, "web.domain");
        c.web.domain = "vpn.example.com".into();
        validate(&c).unwrap();
        c.web.acme_directory = "http://ca.example/dir".into();
        assert_eq!(validate(&c).unwrap_err().key, "web.acme_directory");
        c.web.acme_directory = crate::LETS_ENCRYPT_DIRECTORY.into();
        c.web.acme_email = "not an email".into();
        assert_eq!(validate(&c).unwrap_err().key, "web.acme_email");
        c.web.acme_email = String::new();
        c.web.http_listen = c.web.https_listen;
        assert_eq!(validate(&c).unwrap_err().key, "web.http_listen");
        c.web.http_listen = c.node.listen;
        assert_eq!(validate(&c).unwrap_err().key, "web.http_listen");
    }

    #[test]
    fn a_tls_node_under_the_domain_without_files_shares_the_certificate() {
        let mut c = ok();
        c.web.tls = crate::WebTls::Acme;
        c.web.domain = "vpn.example.com".into();
        c.node.security = crate::NodeSecurityKind::Tls;
        c.node.public_host = "de.vpn.example.com".into();
        assert!(c.node_uses_acme());
        assert_eq!(
            c.web.acme_names(&c.node),
            vec![
                "vpn.example.com".to_owned(),
                "de.vpn.example.com".to_owned()
            ]
        );
        c.node.public_host = "vpn.example.com".into();
        assert_eq!(
            c.web.acme_names(&c.node),
            vec!["vpn.example.com".to_owned()]
        );
        c.node.public_host = "elsewhere.example".into();
        assert!(!c.node_uses_acme());
        c.node.public_host = "de.vpn.example.com".into();
        c.node.tls.cert = Some("/etc/cert.pem".into());
        assert!(!c.node_uses_acme());
        c.node.tls.cert = None;
        c.web.tls = crate::WebTls::None;
        assert!(!c.node_uses_acme());
        assert!(c.web.acme_names(&c.node).is_empty());
    }

    #[test]
    fn half_a_tls_key_pair_is_refused() {
        let mut c = ok();
        c.node.tls.cert = Some("cert.pem".into());
        assert_eq!(validate(&c).unwrap_err().key, "node.tls");
    }
}
