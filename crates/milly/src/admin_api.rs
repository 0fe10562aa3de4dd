//! The operator's HTTP surface, mounted on the website under `/admin/`: aggregate metrics in
//! Prometheus' text format. Every route needs `Authorization: Bearer <[admin] token>`; the token
//! is compared in constant time and a wrong one gets the same 404 as an unknown page, so the
//! surface is invisible to probes.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use subtle::ConstantTimeEq as _;

#[derive(Clone)]
pub struct AdminState {
    pub token: Arc<String>,
    pub app: app::App,
    pub node_metrics: Option<Arc<node::Metrics>>,
    pub bot_metrics: Option<bot::BotMetrics>,
}

pub fn router(state: AdminState) -> Router {
    Router::new()
        .route("/admin/metrics", get(metrics))
        .with_state(state)
}

fn authorized(headers: &HeaderMap, token: &str) -> bool {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    !token.is_empty() && bool::from(presented.as_bytes().ct_eq(token.as_bytes()))
}

async fn metrics(State(state): State<AdminState>, headers: HeaderMap) -> Response {
    if !authorized(&headers, &state.token) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let mut out = String::new();
    let mut counter = |name: &str, kind: &str, help: &str, value: u64| {
        let _ = writeln!(
            out,
            "# HELP milly_{name} {help}\n# TYPE milly_{name} {kind}\nmilly_{name} {value}"
        );
    };
    match state.app.user_counts(time::OffsetDateTime::now_utc()).await {
        Ok(s) => {
            counter("users", "gauge", "Users in the store.", s.users as u64);
            counter(
                "active_subscriptions",
                "gauge",
                "Users with an active subscription.",
                s.active_subscriptions as u64,
            );
            counter(
                "blocked_users",
                "gauge",
                "Users blocked by the operator.",
                s.blocked as u64,
            );
        }
        Err(e) => {
            tracing::warn!(error = %e, "admin metrics: cannot read the store");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    }
    if let Some(b) = &state.bot_metrics {
        counter(
            "bot_unreadable_updates_total",
            "counter",
            "Telegram updates skipped because the Bot API library could not read them.",
            b.unreadable_updates(),
        );
        counter(
            "bot_shed_updates_total",
            "counter",
            "Telegram updates dropped because their sender's queue was full.",
            b.shed_updates(),
        );
        counter(
            "bot_updates_in_flight",
            "gauge",
            "Telegram updates accepted and still being handled.",
            b.updates_in_flight(),
        );
    }
    if let Some(m) = &state.node_metrics {
        let m = m.snapshot();
        counter(
            "node_connections_accepted_total",
            "counter",
            "Connections accepted by the node.",
            m.connections_accepted,
        );
        counter(
            "node_connections_active",
            "gauge",
            "Connections open now.",
            m.connections_active,
        );
        counter(
            "node_sessions_total",
            "counter",
            "Connections that became proxied sessions.",
            m.sessions,
        );
        counter(
            "node_bytes_up_total",
            "counter",
            "Bytes from clients to destinations, all users together.",
            m.bytes_up,
        );
        counter(
            "node_bytes_down_total",
            "counter",
            "Bytes from destinations to clients, all users together.",
            m.bytes_down,
        );
        counter(
            "node_vision_splice_bytes_total",
            "counter",
            "Bytes moved with splice(2), kernel to kernel: Vision's direct copy, and REALITY's relay of strangers to dest.",
            m.vision_splice_bytes,
        );
        counter(
            "node_fallbacks_total",
            "counter",
            "Connections handed to the website.",
            m.fallbacks,
        );
        counter(
            "node_revocation_cuts_total",
            "counter",
            "Connections cut because access ended.",
            m.revocation_cuts,
        );
        counter(
            "node_tls_failures_total",
            "counter",
            "Failed TLS handshakes.",
            m.tls_failures,
        );
        counter(
            "node_not_vless_total",
            "counter",
            "Connections that were not VLESS.",
            m.not_vless,
        );
        counter(
            "node_unknown_user_total",
            "counter",
            "VLESS requests from ids without access.",
            m.unknown_user,
        );
        counter(
            "node_handshake_timeouts_total",
            "counter",
            "Handshakes that timed out.",
            m.handshake_timeouts,
        );
        counter(
            "node_egress_refused_total",
            "counter",
            "Requests to refused networks.",
            m.egress_refused,
        );
        counter(
            "node_connect_failed_total",
            "counter",
            "Destinations that could not be reached.",
            m.connect_failed,
        );
        counter(
            "node_unsupported_total",
            "counter",
            "Requests the node does not serve.",
            m.unsupported,
        );
        // Labelled by reason only: never an address or a user. ("subscriber_sockets" is one
        // user's socket budget.)
        let name = "milly_node_budget_refusals_total";
        let _ = writeln!(
            out,
            "# HELP {name} Sessions and connections refused to keep a user or an address within its budget.\n# TYPE {name} counter"
        );
        for reason in node::BudgetRefusal::ALL {
            let _ = writeln!(
                out,
                "{name}{{reason=\"{}\"}} {}",
                reason.label(),
                m.refusals(reason)
            );
        }
    }
    remote_nodes(&state.app, &mut out).await;
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

/// One figure of a node, given the current access revision; `None` leaves the sample out.
type NodeFigure = fn(&app::NodeOverview, i64) -> Option<u64>;

/// Per remote node, labelled by the operator's name for it: online, how far its table is
/// behind, and what it last reported (all users together, never per user).
async fn remote_nodes(app: &app::App, out: &mut String) {
    let (nodes, revision) = match (app.node_overview().await, app.access_revision().await) {
        (Ok(nodes), Ok(revision)) => (nodes, revision),
        (Err(e), _) | (_, Err(e)) => {
            tracing::warn!(error = %e, "admin metrics: cannot read the nodes");
            return;
        }
    };
    let remote: Vec<_> = nodes.iter().filter(|n| n.online.is_some()).collect();
    let gauges: [(&str, &str, &str, NodeFigure); 5] = [
        (
            "online",
            "gauge",
            "1 while the remote node reports, 0 otherwise.",
            |n, _| Some(u64::from(n.online == Some(true))),
        ),
        (
            "revision_lag",
            "gauge",
            "Access revisions the node's table is behind, as of its last report (absent until it reports).",
            |n, now| n.revision_lag(now),
        ),
        (
            "connections",
            "gauge",
            "Connections open on the node, as it last reported.",
            |n, _| Some(n.status.as_ref().map_or(0, |s| s.connections)),
        ),
        (
            "bytes_up_total",
            "counter",
            "Bytes from clients, as the node last reported.",
            |n, _| Some(n.status.as_ref().map_or(0, |s| s.bytes_up)),
        ),
        (
            "bytes_down_total",
            "counter",
            "Bytes to clients, as the node last reported.",
            |n, _| Some(n.status.as_ref().map_or(0, |s| s.bytes_down)),
        ),
    ];
    for (name, kind, help, value) in gauges {
        let name = format!("milly_remote_node_{name}");
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for node in &remote {
            let Some(figure) = value(node, revision) else {
                continue;
            };
            let label = node.record.spec.name.replace(['\\', '"', '\n'], "_");
            let _ = writeln!(out, "{name}{{node=\"{label}\"}} {figure}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, value.parse().unwrap());
        h
    }

    #[test]
    fn only_the_exact_bearer_token_is_accepted() {
        assert!(authorized(&headers("Bearer s3cret"), "s3cret"));
        assert!(!authorized(&headers("Bearer s3cre"), "s3cret"));
        assert!(!authorized(&headers("s3cret"), "s3cret"));
        assert!(!authorized(&HeaderMap::new(), "s3cret"));
        assert!(
            !authorized(&headers("Bearer "), ""),
            "an empty token never authorizes"
        );
    }
}
