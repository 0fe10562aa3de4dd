//! Broadcasts: compose (text and audience), preview (the bot sends it to the admin alone),
//! send to everyone / active / expired (at any time or in the last N days) / trial only / never
//! paid, and a progress page (delivered, blocked the bot, other failures, remaining) that refreshes itself with `<meta http-equiv=refresh>` until the bot is done.
//! The website never talks to Telegram: it records the job, and the bot's leader sends it.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use domain::{BroadcastAudience, ExpiredDays, EXPIRED_WITHIN};
use serde::Deserialize;
use time::OffsetDateTime;

use super::form::AdminForm;
use super::session::{see_other, Signed};
use super::view::{message, page, when, AdminChrome};
use crate::error::WebError;
use crate::site::Site;

/// Seconds between the progress page's refreshes.
pub const REFRESH_SECONDS: u32 = 2;

pub struct Choice {
    pub code: &'static str,
    pub label: String,
}

pub struct JobRow {
    pub id: i64,
    pub created: String,
    pub audience: String,
    pub progress: String,
    pub done: bool,
}

#[derive(Template)]
#[template(path = "admin/broadcasts.html")]
struct ComposePage {
    chrome: AdminChrome,
    audiences: Vec<Choice>,
    max_days: u16,
    jobs: Vec<JobRow>,
}

/// `GET /admin/broadcasts`.
pub async fn compose(State(site): State<Site>, signed: Signed) -> Result<Response, WebError> {
    let jobs = signed
        .app
        .recent_broadcasts(20)
        .await?
        .iter()
        .map(|job| JobRow {
            id: job.id,
            created: when(job.created_at),
            audience: job.audience.label(),
            progress: format!(
                "{} delivered, {} blocked the bot, {} other failures of {}",
                job.sent, job.blocked, job.failed, job.recipients
            ),
            done: job.finished_at.is_some(),
        })
        .collect();
    page(
        StatusCode::OK,
        &ComposePage {
            chrome: AdminChrome::new(&site, Some(&signed), "/admin/broadcasts", "Broadcasts"),
            audiences: BroadcastAudience::BY_WORD
                .iter()
                .map(|a| Choice {
                    code: a.code(),
                    label: a.label(),
                })
                .chain([Choice {
                    code: EXPIRED_WITHIN,
                    label: "expired in the last N days (N below)".into(),
                }])
                .collect(),
            max_days: ExpiredDays::MAX,
            jobs,
        },
    )
}

#[derive(Deserialize)]
pub struct BroadcastForm {
    #[serde(default)]
    text: String,
    #[serde(default)]
    audience: String,
    /// The N of "expired in the last N days"; the browser sends it (maybe empty) with any
    /// audience, and it counts only with that one.
    #[serde(default)]
    days: String,
    /// `preview` or `send`: which button was pressed.
    #[serde(default)]
    action: String,
}

/// `POST /admin/broadcasts`: records a preview or a broadcast for the bot to send.
pub async fn start(
    State(site): State<Site>,
    AdminForm { signed, form }: AdminForm<BroadcastForm>,
) -> Result<Response, WebError> {
    let audience = match form.action.as_str() {
        "preview" => Some(BroadcastAudience::Preview),
        "send" => BroadcastAudience::from_parts(&form.audience, form.days.trim().parse().ok())
            .filter(|a| *a != BroadcastAudience::Preview),
        _ => None,
    };
    let Some(audience) = audience else {
        if form.action == "send" && form.audience == EXPIRED_WITHIN {
            return message(
                &site,
                Some(&signed),
                StatusCode::BAD_REQUEST,
                "Not sent",
                "\"Expired in the last N days\" needs N from 1 to 365.",
            );
        }
        return Err(WebError::Forbidden);
    };
    let now = OffsetDateTime::now_utc();
    match signed
        .app
        .start_broadcast(signed.admin, audience, &form.text, now)
        .await
    {
        Ok(job) => Ok(see_other(&format!("/admin/broadcasts/{}", job.id))),
        Err(app::AppError::BadBroadcast) => message(
            &site,
            Some(&signed),
            StatusCode::BAD_REQUEST,
            "Not sent",
            "A broadcast needs a text of 1 to 4096 characters.",
        ),
        Err(err) => Err(err.into()),
    }
}

#[derive(Template)]
#[template(path = "admin/broadcast.html")]
struct ProgressPage {
    chrome: AdminChrome,
    audience: String,
    body: String,
    recipients: i64,
    sent: i64,
    blocked: i64,
    failed: i64,
    remaining: i64,
    finished: String,
    refresh: u32,
}

/// `GET /admin/broadcasts/{id}`: how far the bot got.
pub async fn progress(
    State(site): State<Site>,
    signed: Signed,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    let job = signed.app.broadcast(id).await?.ok_or(WebError::NotFound)?;
    let title = format!("Broadcast #{}", job.id);
    page(
        StatusCode::OK,
        &ProgressPage {
            chrome: AdminChrome::new(&site, Some(&signed), "/admin/broadcasts", &title),
            audience: job.audience.label(),
            body: job.body,
            recipients: job.recipients,
            sent: job.sent,
            blocked: job.blocked,
            failed: job.failed,
            remaining: if job.finished_at.is_some() {
                0
            } else {
                (job.recipients - job.sent - job.blocked - job.failed).max(0)
            },
            finished: job.finished_at.map(when).unwrap_or_default(),
            refresh: REFRESH_SECONDS,
        },
    )
}
