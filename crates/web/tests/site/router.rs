//! The public router over a configured site (an operator with contacts, two plans and a trial),
//! and what it answers.

use axum::body::Body;
use axum::http::Request;
use domain::{Days, Money, Plan, PlanId};
use web::SiteSettings;

pub const PAGES: [&str; 4] = ["/", "/privacy", "/terms", "/support"];

pub fn settings() -> SiteSettings {
    SiteSettings {
        service_name: "Nimbus VPN".into(),
        public_url: "https://nimbus.example".parse().unwrap(),
        operator: "ИП Иванов И. И.".into(),
        support_email: "help@nimbus.example".into(),
        support_telegram: "@nimbus_help".into(),
        plans: vec![
            Plan {
                id: PlanId("month".into()),
                days: Days(30),
                price_rub: Some(Money::rub_kopecks(24_950)),
                price_stars: Some(Money::stars(123)),
            },
            Plan {
                id: PlanId("year".into()),
                days: Days(365),
                price_rub: None,
                price_stars: Some(Money::stars(999)),
            },
        ],
        trial_days: 5,
        ..SiteSettings::default()
    }
}

pub fn router_with(s: SiteSettings) -> axum::Router {
    web::router(web::Site::new(s))
}

pub fn router() -> axum::Router {
    router_with(settings())
}

pub use crate::answer::{send, Answer};

pub async fn get(router: axum::Router, uri: &str) -> Answer {
    send(router, Request::get(uri).body(Body::empty()).unwrap()).await
}

/// The stylesheet and icon URLs a page links to.
pub fn asset_links(html: &str) -> Vec<String> {
    html.split("href=\"/assets/")
        .skip(1)
        .map(|rest| format!("/assets/{}", &rest[..rest.find('"').unwrap()]))
        .collect()
}
