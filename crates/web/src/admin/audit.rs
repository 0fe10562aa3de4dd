//! `GET /admin/audit`: who did what and when, newest first, by internal ids only.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::session::Signed;
use super::view::{page, when, AdminChrome};
use crate::error::WebError;
use crate::site::Site;

const PAGE_SIZE: u32 = 100;

pub struct AuditRow {
    pub at: String,
    pub admin: i64,
    pub action: &'static str,
    pub target: String,
    pub href: String,
}

#[derive(Deserialize)]
pub struct AuditQuery {
    before: Option<i64>,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    chrome: AdminChrome,
    entries: Vec<AuditRow>,
    older: Option<i64>,
}

pub async fn list(
    State(site): State<Site>,
    signed: Signed,
    Query(query): Query<AuditQuery>,
) -> Result<Response, WebError> {
    let entries = signed.app.audit_entries(query.before, PAGE_SIZE).await?;
    let older = (entries.len() == PAGE_SIZE as usize)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    let entries = entries
        .iter()
        .map(|e| {
            let (target, href) = match e.target {
                Some(app::AuditTarget::User(id)) => {
                    (format!("user {id}"), format!("/admin/users/{id}"))
                }
                Some(app::AuditTarget::Payment(id)) => (format!("payment {id}"), String::new()),
                Some(app::AuditTarget::Node(id)) => (format!("node {id}"), String::new()),
                Some(app::AuditTarget::Broadcast(id)) => {
                    (format!("broadcast {id}"), format!("/admin/broadcasts/{id}"))
                }
                None => (String::new(), String::new()),
            };
            AuditRow {
                at: when(e.at),
                admin: e.admin.0,
                action: e.action.code(),
                target,
                href,
            }
        })
        .collect();
    page(
        StatusCode::OK,
        &AuditPage {
            chrome: AdminChrome::new(&site, Some(&signed), "/admin/audit", "Audit"),
            entries,
            older,
        },
    )
}
