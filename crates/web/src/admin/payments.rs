//! `GET /admin/payments`: every payment, newest first, a page at a time; and the Refund button
//! (`POST /admin/payments/{id}/refund`), which refunds through the provider like
//! `milly payment refund`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use domain::{Money, Payment, PaymentId};
use serde::Deserialize;
use time::OffsetDateTime;

use super::form::AdminForm;
use super::session::{see_other, Signed};
use super::users::refundable;
use super::view::{message, money, page, when, AdminChrome};
use crate::error::WebError;
use crate::site::Site;

/// Payments per page.
const PAGE_SIZE: u32 = 50;

/// One payment as the tables show it: no card data exists to show.
pub struct PaymentRow {
    pub id: i64,
    pub user: Option<i64>,
    pub provider: &'static str,
    pub plan: String,
    pub amount: String,
    pub refunded: String,
    pub status: &'static str,
    pub date: String,
    pub refundable: bool,
}

impl PaymentRow {
    pub fn new(p: &Payment) -> Self {
        Self {
            id: p.id.0,
            user: p.user_id.map(|u| u.0),
            provider: p.provider.code(),
            plan: p.plan.0.clone(),
            amount: money(p.amount),
            refunded: if p.refunded_minor > 0 {
                money(Money {
                    minor: p.refunded_minor,
                    currency: p.amount.currency,
                })
            } else {
                String::new()
            },
            status: p.status.code(),
            date: when(p.created_at),
            refundable: refundable(p.status, p.provider),
        }
    }
}

#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    page: u32,
}

#[derive(Template)]
#[template(path = "admin/payments.html")]
struct PaymentsPage {
    chrome: AdminChrome,
    payments: Vec<PaymentRow>,
    newer: Option<u32>,
    older: Option<u32>,
}

pub async fn list(
    State(site): State<Site>,
    signed: Signed,
    Query(query): Query<PageQuery>,
) -> Result<Response, WebError> {
    let offset = query.page.saturating_mul(PAGE_SIZE);
    // One more than a page tells whether an older page exists.
    let mut payments = signed.app.payments_page(offset, PAGE_SIZE + 1).await?;
    let more = payments.len() > PAGE_SIZE as usize;
    payments.truncate(PAGE_SIZE as usize);
    page(
        StatusCode::OK,
        &PaymentsPage {
            chrome: AdminChrome::new(&site, Some(&signed), "/admin/payments", "Payments"),
            payments: payments.iter().map(PaymentRow::new).collect(),
            newer: query.page.checked_sub(1),
            older: more.then_some(query.page.saturating_add(1)),
        },
    )
}

#[derive(serde::Deserialize)]
pub struct RefundForm {
    #[serde(default)]
    confirm: String,
}

/// `POST /admin/payments/{id}/refund`: refunds when the button's box was ticked (money
/// leaves at once and cannot come back: one click is not enough).
pub async fn refund(
    State(site): State<Site>,
    Path(id): Path<i64>,
    AdminForm { signed, form }: AdminForm<RefundForm>,
) -> Result<Response, WebError> {
    if form.confirm != "yes" {
        return message(
            &site,
            Some(&signed),
            StatusCode::BAD_REQUEST,
            "Not refunded",
            "Tick the box next to Refund to confirm: a refund cannot be undone.",
        );
    }
    let now = OffsetDateTime::now_utc();
    let payer = signed
        .app
        .payment(PaymentId(id))
        .await?
        .and_then(|p| p.user_id);
    match signed
        .app
        .admin_refund(signed.admin, PaymentId(id), now)
        .await
    {
        Ok(_) => Ok(match payer {
            Some(user) => see_other(&format!("/admin/users/{}?done=refunded", user.0)),
            None => see_other("/admin/payments"),
        }),
        Err(err) => {
            // Payment errors carry no personal data: the admin sees why.
            tracing::warn!(error = %err, "an admin's refund failed");
            let status = if err.is_transient() {
                StatusCode::BAD_GATEWAY
            } else {
                StatusCode::CONFLICT
            };
            message(
                &site,
                Some(&signed),
                status,
                "Not refunded",
                &err.to_string(),
            )
        }
    }
}
