//! What every panel page shares: its frame (navigation, the sign-out form with the CSRF token)
//! and how dates and amounts read; and the one page for messages and refusals.

use askama::Template;
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use domain::Money;
use time::macros::format_description;
use time::OffsetDateTime;

use super::session::Signed;
use crate::error::WebError;
use crate::page::html;
use crate::site::Site;

/// The panel's pages in navigation order: address and label.
const NAV: [(&str, &str); 7] = [
    ("/admin", "Dashboard"),
    ("/admin/users", "Users"),
    ("/admin/payments", "Payments"),
    ("/admin/nodes", "Nodes"),
    ("/admin/broadcasts", "Broadcasts"),
    ("/admin/promos", "Promo codes"),
    ("/admin/audit", "Audit"),
];

pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// The frame of a panel page; `csrf` is empty when nobody is signed in.
pub struct AdminChrome {
    pub title: String,
    pub service: String,
    pub css: String,
    pub icon: String,
    pub nav: Vec<NavItem>,
    pub csrf: String,
}

impl AdminChrome {
    pub fn new(site: &Site, signed: Option<&Signed>, current: &str, title: &str) -> Self {
        Self {
            title: title.to_owned(),
            service: site.contacts().service.clone(),
            css: site.assets().css.clone(),
            icon: site.assets().icon.clone(),
            nav: match signed {
                Some(_) => NAV
                    .iter()
                    .map(|(href, label)| NavItem {
                        href,
                        label,
                        current: *href == current,
                    })
                    .collect(),
                None => Vec::new(),
            },
            csrf: signed.map(Signed::csrf).unwrap_or_default(),
        }
    }
}

/// Renders a panel page: never cached, never indexed.
pub fn page(status: StatusCode, template: &impl Template) -> Result<Response, WebError> {
    let mut response = html(status, template)?;
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[derive(Template)]
#[template(path = "admin/message.html")]
struct MessagePage {
    chrome: AdminChrome,
    text: String,
}

/// A page with one message, such as a refusal or how to sign in.
pub fn message(
    site: &Site,
    signed: Option<&Signed>,
    status: StatusCode,
    title: &str,
    text: &str,
) -> Result<Response, WebError> {
    page(
        status,
        &MessagePage {
            chrome: AdminChrome::new(site, signed, "", title),
            text: text.to_owned(),
        },
    )
}

/// `2026-12-07 14:05 UTC`.
pub fn when(t: OffsetDateTime) -> String {
    t.format(format_description!(
        "[year]-[month]-[day] [hour]:[minute] UTC"
    ))
    .unwrap_or_default()
}

/// `1234.50 RUB`, `150 XTR`.
pub fn money(m: Money) -> String {
    let per = m.currency.minor_per_major();
    if per == 1 {
        return format!("{} {}", m.minor, m.currency.code());
    }
    let sign = if m.minor < 0 { "-" } else { "" };
    let abs = m.minor.unsigned_abs();
    let per = per.unsigned_abs();
    format!("{sign}{}.{:02} {}", abs / per, abs % per, m.currency.code())
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::Currency;

    #[test]
    fn amounts_read_in_major_units() {
        let rub = Money {
            minor: 123_450,
            currency: Currency::Rub,
        };
        assert_eq!(money(rub), "1234.50 RUB");
        let xtr = Money {
            minor: 150,
            currency: Currency::Xtr,
        };
        assert_eq!(money(xtr), "150 XTR");
    }
}
