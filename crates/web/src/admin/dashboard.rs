//! `GET /admin`: users, active subscriptions, trials, nodes online, and revenue per day and
//! provider over the last 30 days.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use time::{Date, Duration, OffsetDateTime};

use super::session::Signed;
use super::view::{money, page, AdminChrome};
use crate::error::WebError;
use crate::site::Site;

pub struct RevenueRow {
    pub day: String,
    pub provider: &'static str,
    pub total: String,
    pub payments: i64,
}

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
struct DashboardPage {
    chrome: AdminChrome,
    d: app::Dashboard,
    revenue: Vec<RevenueRow>,
    days: i64,
}

pub async fn show(State(site): State<Site>, signed: Signed) -> Result<Response, WebError> {
    let d = signed
        .app
        .admin_dashboard(OffsetDateTime::now_utc())
        .await?;
    let revenue = d
        .revenue
        .iter()
        .map(|r| RevenueRow {
            day: day(r.day),
            provider: r.provider.code(),
            total: money(r.total),
            payments: r.payments,
        })
        .collect();
    page(
        StatusCode::OK,
        &DashboardPage {
            chrome: AdminChrome::new(&site, Some(&signed), "/admin", "Dashboard"),
            d,
            revenue,
            days: app::DASHBOARD_REVENUE_DAYS,
        },
    )
}

/// Days since 1970-01-01 as a date.
fn day(days: i64) -> String {
    let epoch = Date::from_calendar_date(1970, time::Month::January, 1).unwrap_or(Date::MIN);
    epoch
        .checked_add(Duration::days(days))
        .map(|d| d.to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn days_since_the_epoch_read_as_dates() {
        assert_eq!(super::day(0), "1970-01-01");
        assert_eq!(super::day(20_429), "2025-12-07");
    }
}
