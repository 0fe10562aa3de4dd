//! `GET /admin/nodes`: every node, enabled or not, online and how far behind; and switching one
//! in or out of links and subscriptions (`POST /admin/nodes/{name}/disable|enable`).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use domain::NodeKind;
use time::OffsetDateTime;

use super::form::{AdminForm, NoFields};
use super::session::{see_other, Signed};
use super::view::{page, when, AdminChrome};
use crate::error::WebError;
use crate::site::Site;

pub struct NodeRow {
    pub name: String,
    pub location: String,
    pub address: String,
    pub kind: &'static str,
    pub enabled: bool,
    pub online: &'static str,
    pub lag: String,
    pub last_seen: String,
    pub connections: String,
}

#[derive(Template)]
#[template(path = "admin/nodes.html")]
struct NodesPage {
    chrome: AdminChrome,
    nodes: Vec<NodeRow>,
}

pub async fn list(State(site): State<Site>, signed: Signed) -> Result<Response, WebError> {
    let revision = signed.app.access_revision().await?;
    let nodes = signed
        .app
        .node_overview()
        .await?
        .iter()
        .map(|n| NodeRow {
            name: n.record.spec.name.clone(),
            location: n.record.spec.location.to_string(),
            address: format!("{}:{}", n.record.spec.public_host, n.record.spec.port),
            kind: match n.record.kind {
                NodeKind::Embedded => "embedded",
                NodeKind::Remote => "remote",
            },
            enabled: n.record.enabled,
            online: match n.online {
                None => "with this server",
                Some(true) => "online",
                Some(false) => "offline",
            },
            lag: n
                .revision_lag(revision)
                .map(|lag| lag.to_string())
                .unwrap_or_default(),
            last_seen: n
                .status
                .as_ref()
                .map(|s| when(s.last_seen_at))
                .unwrap_or_default(),
            connections: n
                .status
                .as_ref()
                .map(|s| s.connections.to_string())
                .unwrap_or_default(),
        })
        .collect();
    page(
        StatusCode::OK,
        &NodesPage {
            chrome: AdminChrome::new(&site, Some(&signed), "/admin/nodes", "Nodes"),
            nodes,
        },
    )
}

async fn set_enabled(signed: Signed, name: &str, enabled: bool) -> Result<Response, WebError> {
    let now = OffsetDateTime::now_utc();
    signed
        .app
        .admin_set_node_enabled(signed.admin, name, enabled, now)
        .await
        .map_err(|err| match err {
            app::AppError::NodeNotFound(_) => WebError::NotFound,
            other => other.into(),
        })?;
    Ok(see_other("/admin/nodes"))
}

/// `POST /admin/nodes/{name}/disable`.
pub async fn disable(
    Path(name): Path<String>,
    AdminForm { signed, .. }: AdminForm<NoFields>,
) -> Result<Response, WebError> {
    set_enabled(signed, &name, false).await
}

/// `POST /admin/nodes/{name}/enable`.
pub async fn enable(
    Path(name): Path<String>,
    AdminForm { signed, .. }: AdminForm<NoFields>,
) -> Result<Response, WebError> {
    set_enabled(signed, &name, true).await
}
