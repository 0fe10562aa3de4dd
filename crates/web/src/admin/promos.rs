//! `GET /admin/promos`: every promo code, what it gives, its limits and how often it was used
//! (counts only: who used a code is the person's own data, in their export). Codes are made
//! and disabled with `milly promo`.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use domain::PromoBenefit;
use time::OffsetDateTime;

use super::session::Signed;
use super::view::{page, when, AdminChrome};
use crate::error::WebError;
use crate::site::Site;

pub struct PromoRow {
    pub code: String,
    pub gives: String,
    pub plan: String,
    pub uses: String,
    pub until: String,
    pub state: &'static str,
}

#[derive(Template)]
#[template(path = "admin/promos.html")]
struct PromosPage {
    chrome: AdminChrome,
    promos: Vec<PromoRow>,
}

pub async fn list(State(site): State<Site>, signed: Signed) -> Result<Response, WebError> {
    let now = OffsetDateTime::now_utc();
    let promos = signed
        .app
        .promos()
        .await?
        .into_iter()
        .map(|p| PromoRow {
            gives: match p.benefit {
                PromoBenefit::Days(d) => format!("{} days", d.0),
                PromoBenefit::Percent(pc) => format!("{}% off", pc.get()),
            },
            plan: p.plan.as_ref().map_or("any".into(), |p| p.0.clone()),
            uses: match p.max_uses {
                Some(max) => format!("{} of {max}", p.uses),
                None => p.uses.to_string(),
            },
            until: p.valid_until.map(when).unwrap_or_else(|| "—".into()),
            state: if p.disabled {
                "disabled"
            } else if p.usable(now).is_ok() {
                "on"
            } else {
                "ended"
            },
            code: p.code.to_string(),
        })
        .collect();
    page(
        StatusCode::OK,
        &PromosPage {
            chrome: AdminChrome::new(&site, Some(&signed), "/admin/promos", "Promo codes"),
            promos,
        },
    )
}
