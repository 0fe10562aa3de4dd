//! The public router over a configured site (an operator with contacts, two plans and a trial),
//! and what it answers.

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;

pub const PAGES: [&str; 4] = ["/", "/privacy", "/terms", "/support"];

pub fn config() -> config::Config {
    let mut c = config::Config::default();
    c.service.name = "Nimbus VPN".into();
    c.service.public_url = "https://nimbus.example".parse().unwrap();
    c.service.operator = "ИП Иванов И. И.".into();
    c.service.support_email = "help@nimbus.example".into();
    c.service.support_telegram = "@nimbus_help".into();
    c.plans = vec![
        config::PlanConfig {
            id: "month".into(),
            days: 30,
            price_rub: Some(config::Rubles { kopecks: 24_950 }),
            price_stars: Some(123),
        },
        config::PlanConfig {
            id: "year".into(),
            days: 365,
            price_rub: None,
            price_stars: Some(999),
        },
    ];
    c.trial.days = 5;
    c
}

pub fn router_with(c: config::Config) -> axum::Router {
    web::router(web::Site::new(Arc::new(c)))
}

pub fn router() -> axum::Router {
    router_with(config())
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
