//! The pages a visitor reads: every page in both languages, the home page from the
//! configuration, support contacts, and the small answers (HEAD, robots.txt, healthz).

use axum::body::Body;
use axum::http::{header, Request, StatusCode};

use crate::router::{get, router, router_with, send, settings, PAGES};

#[tokio::test]
async fn every_page_answers_in_both_languages() {
    for path in PAGES {
        for lang in ["ru", "en"] {
            let a = get(router(), &format!("{path}?lang={lang}")).await;
            assert_eq!(a.status, StatusCode::OK, "{path} {lang}");
            assert_eq!(a.headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
            assert!(
                a.body.contains(&format!("<html lang=\"{lang}\">")),
                "{path} {lang}"
            );
            assert!(a.body.contains("Nimbus VPN"), "{path} {lang}");
        }
    }
}

#[tokio::test]
async fn the_home_page_shows_plans_prices_and_trial_from_the_configuration() {
    let ru = get(router(), "/?lang=ru").await.body;
    for expected in [
        "30 дней",
        "249,50 ₽",
        "123 ⭐",
        "365 дней",
        "999 ⭐",
        "5 дней",
    ] {
        assert!(ru.contains(expected), "{expected} missing");
    }
    let en = get(router(), "/?lang=en").await.body;
    for expected in [
        "30 days",
        "249.50 ₽",
        "123 ⭐",
        "365 days",
        "999 ⭐",
        "5 days",
    ] {
        assert!(en.contains(expected), "{expected} missing");
    }
    assert!(
        en.contains("href=\"https://t.me/nimbus_help\""),
        "the bot button"
    );
}

#[tokio::test]
async fn the_bot_button_leads_to_the_bot_once_its_username_is_known() {
    let site = web::Site::new(settings()).with_bot_username("nimbus_vpn_bot");
    let a = get(web::router(site), "/").await;
    assert!(a.body.contains("href=\"https://t.me/nimbus_vpn_bot\""));
}

#[tokio::test]
async fn without_a_trial_or_plans_the_home_page_says_so() {
    let mut c = settings();
    c.trial_days = 0;
    c.plans.clear();
    let a = get(router_with(c), "/?lang=en").await;
    assert!(!a.body.contains("Try it free"));
    assert!(a.body.contains("Plans are coming soon."));
}

#[tokio::test]
async fn the_support_page_lists_the_operators_contacts() {
    let body = get(router(), "/support?lang=en").await.body;
    assert!(body.contains("href=\"mailto:help@nimbus.example\""));
    assert!(body.contains("href=\"https://t.me/nimbus_help\""));
    let empty = get(
        router_with(web::SiteSettings::default()),
        "/support?lang=en",
    )
    .await
    .body;
    assert!(empty.contains("The operator has not published contacts yet."));
}

#[tokio::test]
async fn a_head_request_gets_the_headers_without_a_body() {
    let a = send(router(), Request::head("/").body(Body::empty()).unwrap()).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    assert!(a.body.is_empty());
}

#[tokio::test]
async fn robots_may_read_the_pages_but_not_subscriptions() {
    let a = get(router(), "/robots.txt").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.contains("Disallow: /sub/"));
}

#[tokio::test]
async fn healthz_answers_ok_with_the_build() {
    let a = get(router(), "/healthz").await;
    assert_eq!(a.status, StatusCode::OK);
    let body: serde_json::Value = serde_json::from_str(&a.body).unwrap();
    assert_eq!(body["status"], "ok", "{body}");
    assert_eq!(
        body["build"]["version"],
        env!("CARGO_PKG_VERSION"),
        "{body}"
    );
}
