//! Users: search by Telegram id, internal id or @username; a user's page with their
//! subscription and payments; extend, block, unblock, export (a JSON download) and delete (after
//! a confirmation page). Every change is an audited use case of `app`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::{Days, PaymentStatus, Provider, UserId};
use serde::Deserialize;
use time::OffsetDateTime;

use super::form::{AdminForm, NoFields};
use super::payments::PaymentRow;
use super::session::{see_other, Signed};
use super::view::{message, page, when, AdminChrome};
use crate::error::WebError;
use crate::site::Site;

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct SearchPage {
    chrome: AdminChrome,
    q: String,
    missing: bool,
}

/// `GET /admin/users?q=`: the search form; a hit goes to the person's page.
pub async fn search(
    State(site): State<Site>,
    signed: Signed,
    Query(query): Query<SearchQuery>,
) -> Result<Response, WebError> {
    let q = query.q.trim().to_owned();
    if !q.is_empty() {
        if let Some(user) = signed.app.admin_find_user(&q).await? {
            return Ok(see_other(&format!("/admin/users/{}", user.id.0)));
        }
    }
    page(
        StatusCode::OK,
        &SearchPage {
            chrome: AdminChrome::new(&site, Some(&signed), "/admin/users", "Users"),
            missing: !q.is_empty(),
            q,
        },
    )
}

#[derive(Deserialize)]
pub struct Notice {
    #[serde(default)]
    done: String,
}

#[derive(Template)]
#[template(path = "admin/user.html")]
struct UserPage {
    chrome: AdminChrome,
    id: i64,
    telegram_id: i64,
    username: String,
    joined: String,
    blocked: bool,
    plan: String,
    ends: String,
    access: &'static str,
    notice: &'static str,
    payments: Vec<PaymentRow>,
}

/// `GET /admin/users/{id}`.
pub async fn show(
    State(site): State<Site>,
    signed: Signed,
    Path(id): Path<i64>,
    Query(notice): Query<Notice>,
) -> Result<Response, WebError> {
    let now = OffsetDateTime::now_utc();
    let view = signed.app.view(UserId(id), now).await?;
    let payments = signed.app.payments(Some(UserId(id))).await?;
    let access = match view.access {
        Ok(()) => "has access",
        Err(domain::AccessDenied::Blocked) => "blocked",
        Err(domain::AccessDenied::NoSubscription) => "no subscription",
        Err(domain::AccessDenied::Expired) => "expired",
    };
    let user = &view.user;
    let title = format!("User {}", user.id.0);
    page(
        StatusCode::OK,
        &UserPage {
            chrome: AdminChrome::new(&site, Some(&signed), "/admin/users", &title),
            id: user.id.0,
            telegram_id: user.telegram_id.0,
            username: user.username.clone().unwrap_or_default(),
            joined: when(user.created_at),
            blocked: user.blocked,
            plan: view
                .subscription
                .as_ref()
                .map(|s| s.plan.0.clone())
                .unwrap_or_default(),
            ends: view
                .subscription
                .as_ref()
                .map(|s| when(s.ends_at))
                .unwrap_or_default(),
            access,
            notice: notice_text(&notice.done),
            payments: payments.iter().rev().map(PaymentRow::new).collect(),
        },
    )
}

fn notice_text(code: &str) -> &'static str {
    match code {
        "extended" => "Days added.",
        "blocked" => "Blocked: their access ends within a second.",
        "unblocked" => "Unblocked.",
        "refunded" => "Payment refunded.",
        _ => "",
    }
}

fn back(id: i64, done: &str) -> Response {
    see_other(&format!("/admin/users/{id}?done={done}"))
}

#[derive(Deserialize)]
pub struct ExtendForm {
    days: String,
}

/// `POST /admin/users/{id}/extend`.
pub async fn extend(
    State(site): State<Site>,
    Path(id): Path<i64>,
    AdminForm { signed, form }: AdminForm<ExtendForm>,
) -> Result<Response, WebError> {
    let Ok(days) = form.days.trim().parse::<u32>() else {
        return message(
            &site,
            Some(&signed),
            StatusCode::BAD_REQUEST,
            "Not extended",
            "Days must be a whole number.",
        );
    };
    let now = OffsetDateTime::now_utc();
    match signed
        .app
        .admin_extend(signed.admin, UserId(id), Days(days), now)
        .await
    {
        Ok(_) => Ok(back(id, "extended")),
        Err(app::AppError::Subscription(_)) => message(
            &site,
            Some(&signed),
            StatusCode::BAD_REQUEST,
            "Not extended",
            "That many days cannot be granted.",
        ),
        Err(err) => Err(err.into()),
    }
}

async fn set_blocked(signed: Signed, id: i64, blocked: bool) -> Result<Response, WebError> {
    let now = OffsetDateTime::now_utc();
    signed
        .app
        .admin_set_blocked(signed.admin, UserId(id), blocked, now)
        .await?;
    Ok(back(id, if blocked { "blocked" } else { "unblocked" }))
}

/// `POST /admin/users/{id}/block`.
pub async fn block(
    Path(id): Path<i64>,
    AdminForm { signed, .. }: AdminForm<NoFields>,
) -> Result<Response, WebError> {
    set_blocked(signed, id, true).await
}

/// `POST /admin/users/{id}/unblock`.
pub async fn unblock(
    Path(id): Path<i64>,
    AdminForm { signed, .. }: AdminForm<NoFields>,
) -> Result<Response, WebError> {
    set_blocked(signed, id, false).await
}

/// `POST /admin/users/{id}/export`: everything stored about the person, as a download.
pub async fn export(
    Path(id): Path<i64>,
    AdminForm { signed, .. }: AdminForm<NoFields>,
) -> Result<Response, WebError> {
    let now = OffsetDateTime::now_utc();
    let document = signed
        .app
        .admin_export(signed.admin, UserId(id), now)
        .await?;
    let body = serde_json::to_string_pretty(&document)
        .map_err(|e| WebError::UseCase(app::AppError::Export(e.to_string())))?;
    Ok((
        [
            (CONTENT_TYPE, "application/json".to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"user-{id}.json\""),
            ),
            (axum::http::header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "admin/delete.html")]
struct DeletePage {
    chrome: AdminChrome,
    id: i64,
}

/// `GET /admin/users/{id}/delete`: the confirmation step.
pub async fn confirm_delete(
    State(site): State<Site>,
    signed: Signed,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    signed.app.user(UserId(id)).await?;
    let title = format!("Delete user {id}?");
    page(
        StatusCode::OK,
        &DeletePage {
            chrome: AdminChrome::new(&site, Some(&signed), "/admin/users", &title),
            id,
        },
    )
}

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    confirm: String,
}

/// `POST /admin/users/{id}/delete`: erases the person when the box was ticked.
pub async fn delete(
    State(site): State<Site>,
    Path(id): Path<i64>,
    AdminForm { signed, form }: AdminForm<DeleteForm>,
) -> Result<Response, WebError> {
    if form.confirm != "yes" {
        return Ok(see_other(&format!("/admin/users/{id}/delete")));
    }
    let now = OffsetDateTime::now_utc();
    signed
        .app
        .admin_delete(signed.admin, UserId(id), now)
        .await?;
    message(
        &site,
        Some(&signed),
        StatusCode::OK,
        "User deleted",
        &format!("User {id} is erased; their payments stay, unlinked."),
    )
}

/// Whether the panel offers a refund for a payment in this state.
pub fn refundable(status: PaymentStatus, provider: Provider) -> bool {
    status == PaymentStatus::Succeeded && provider != Provider::Manual
}
