//! `GET /admin/nodes`: every node, enabled or not, online and how far behind; adding a remote
//! REALITY node (`POST /admin/nodes`: its join string is shown once, for `milly node join` on
//! its server); and switching one in or out of links and subscriptions
//! (`POST /admin/nodes/{name}/disable|enable`).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use domain::NodeKind;
use serde::Deserialize;
use time::OffsetDateTime;

use super::form::{AdminForm, NoFields};
use super::registrar::NewNode;
use super::session::{see_other, Signed};
use super::view::{message, page, when, AdminChrome};
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
    can_add: bool,
}

#[derive(Template)]
#[template(path = "admin/node_added.html")]
struct AddedPage {
    chrome: AdminChrome,
    name: String,
    join: String,
    valid_until: String,
}

#[derive(Deserialize)]
pub struct AddForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    location: String,
}

/// `POST /admin/nodes`: registers a remote node and shows its join string, once.
pub async fn add(
    State(site): State<Site>,
    AdminForm { signed, form }: AdminForm<AddForm>,
) -> Result<Response, WebError> {
    let registrar = site.node_registrar().ok_or(WebError::NotFound)?;
    let node = NewNode {
        name: form.name.trim().to_owned(),
        address: form.address.trim().to_owned(),
        location: form.location.trim().to_owned(),
    };
    let name = node.name.clone();
    match registrar.register(signed.admin, node).await {
        Ok(offer) => {
            let title = format!("Node {name} added");
            page(
                StatusCode::OK,
                &AddedPage {
                    chrome: AdminChrome::new(&site, Some(&signed), "/admin/nodes", &title),
                    name,
                    join: offer.join,
                    valid_until: when(offer.valid_until),
                },
            )
        }
        Err(why) => message(
            &site,
            Some(&signed),
            StatusCode::BAD_REQUEST,
            "Node not added",
            &why,
        ),
    }
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
            can_add: site.node_registrar().is_some(),
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
