//! `GET /sub/{token}` against a real store: each kind of client gets its format and the headers
//! it reads, a browser gets the page, and expired, blocked and unknown users get the answers the
//! apps understand — with no timing difference between a real token and a guess.
// A test that unwraps fails loudly, which is what a test should do.
#![allow(clippy::unwrap_used)]

mod answer;

use std::time::{Duration, Instant};

use answer::{from_client, send, Answer};
use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use base64::Engine;
use domain::{SubscriptionToken, VlessUuid};
use store::testing::TestDb;
use time::OffsetDateTime;
use tower::ServiceExt;

const SFA: &str = "SFA/1.11.4 (587; sing-box 1.11.4)";
const V2RAYNG: &str = "v2rayNG/1.9.30";
const CLASH: &str = "clash-verge/v1.7.7";
const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

struct World {
    db: TestDb,
    router: axum::Router,
    store: store::Store,
}

struct Person {
    token: SubscriptionToken,
    uuid: VlessUuid,
}

async fn world() -> World {
    let db = TestDb::sqlite().await;
    let public_url: domain::PublicUrl = "https://nimbus.example".parse().unwrap();
    let app_settings = app::AppSettings {
        service_name: "Nimbus".into(),
        public_url: public_url.clone(),
        ..app::AppSettings::default()
    };
    let site_settings = web::SiteSettings {
        service_name: "Nimbus".into(),
        public_url,
        support_telegram: "@nimbus_help".into(),
        ..web::SiteSettings::default()
    };
    let store = db.store.clone();
    db.tls_node("Nimbus EU", "EU", "eu.nimbus.example").await;
    let app = app::App::new(store.clone(), app_settings);
    let router = web::router(web::Site::new(site_settings).with_app(app));
    World { db, router, store }
}

impl World {
    /// A person whose `days` of access started `started_days_ago` days ago (none: never paid).
    async fn person(&self, telegram_id: i64, access: Option<(u32, i64)>) -> Person {
        let now = OffsetDateTime::now_utc();
        let user = self.db.user(telegram_id, now).await;
        if let Some((days, started_days_ago)) = access {
            let start = now - time::Duration::days(started_days_ago);
            self.db.grant(user.id, "month", days, start).await;
        }
        let creds = self.db.credentials(user.id).await;
        Person {
            token: creds.sub_token,
            uuid: creds.vless_uuid,
        }
    }

    async fn get(&self, uri: &str, headers: &[(header::HeaderName, &str)]) -> Answer {
        let mut request = Request::get(uri);
        for (k, v) in headers {
            request = request.header(k, *v);
        }
        send(self.router.clone(), request.body(Body::empty()).unwrap()).await
    }
}

fn sub(p: &Person) -> String {
    format!("/sub/{}", p.token.as_str())
}

fn expire(h: &HeaderMap) -> i64 {
    let info = h["subscription-userinfo"].to_str().unwrap();
    assert!(
        info.starts_with("upload=0; download=0; total=0; expire="),
        "{info}"
    );
    info.rsplit('=').next().unwrap().parse().unwrap()
}

fn unbase64(s: &str) -> String {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .unwrap();
    String::from_utf8(bytes).unwrap()
}

#[tokio::test]
async fn v2rayng_gets_base64_links_and_the_headers_apps_read() {
    let w = world().await;
    let p = w.person(1, Some((30, 0))).await;
    let a = w.get(&sub(&p), &[(header::USER_AGENT, V2RAYNG)]).await;
    assert_eq!(a.status, StatusCode::OK);
    let links = unbase64(&a.body);
    assert_eq!(links.lines().count(), 1);
    assert!(
        links.starts_with(&format!("vless://{}@eu.nimbus.example:443?", p.uuid)),
        "{links}"
    );
    let in_30_days = (OffsetDateTime::now_utc() + time::Duration::days(30)).unix_timestamp();
    assert!((expire(&a.headers) - in_30_days).abs() < 60);
    assert_eq!(a.headers["profile-title"], "base64:TmltYnVz");
    assert_eq!(a.headers["profile-update-interval"], "12");
    assert_eq!(a.headers["support-url"], "https://t.me/nimbus_help");
    assert_eq!(
        a.headers["profile-web-page-url"],
        format!("https://nimbus.example/sub/{}", p.token.as_str())
    );
    assert!(a.headers.get("announce").is_none());
    assert_eq!(a.headers[header::CACHE_CONTROL], "no-store");
    assert!(a.headers[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .contains("Nimbus.txt"));
}

#[tokio::test]
async fn sing_box_apps_get_a_json_profile_with_the_users_id() {
    let w = world().await;
    let p = w.person(1, Some((30, 0))).await;
    let a = w.get(&sub(&p), &[(header::USER_AGENT, SFA)]).await;
    assert_eq!(
        a.headers[header::CONTENT_TYPE],
        "application/json; charset=utf-8"
    );
    let profile: serde_json::Value = serde_json::from_str(&a.body).unwrap();
    let vless = &profile["outbounds"][1];
    assert_eq!(vless["type"], "vless");
    assert_eq!(vless["uuid"], p.uuid.to_string());
    assert_eq!(vless["server"], "eu.nimbus.example");
}

#[tokio::test]
async fn clash_apps_get_a_yaml_profile() {
    let w = world().await;
    let p = w.person(1, Some((30, 0))).await;
    let a = w.get(&sub(&p), &[(header::USER_AGENT, CLASH)]).await;
    let profile: serde_json::Value = serde_yaml::from_str(&a.body).unwrap();
    assert_eq!(profile["proxies"][0]["uuid"], p.uuid.to_string());
    assert_eq!(profile["proxy-groups"][0]["name"], "Nimbus");
}

#[tokio::test]
async fn the_format_can_be_forced_in_the_address() {
    let w = world().await;
    let p = w.person(1, Some((30, 0))).await;
    let a = w
        .get(
            &format!("{}?format=clash", sub(&p)),
            &[(header::USER_AGENT, V2RAYNG)],
        )
        .await;
    assert_eq!(a.headers[header::CONTENT_TYPE], "text/yaml; charset=utf-8");
}

#[tokio::test]
async fn a_browser_gets_a_page_with_status_qr_code_links_and_app_buttons() {
    let w = world().await;
    let p = w.person(1, Some((30, 0))).await;
    let a = w
        .get(
            &format!("{}?lang=en", sub(&p)),
            &[
                (header::USER_AGENT, FIREFOX),
                (header::ACCEPT, "text/html,*/*;q=0.8"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    assert_eq!(a.headers[header::CACHE_CONTROL], "no-store");
    assert!(a.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .contains("default-src 'none'"));
    assert!(a.body.contains("Active until"));
    assert!(a.body.contains("<svg"), "a QR code");
    assert!(a
        .body
        .contains(&format!("vless://{}@eu.nimbus.example:443", p.uuid)));
    assert!(a
        .body
        .contains("href=\"v2rayng://install-config?url=https%3A%2F%2Fnimbus%2Eexample%2Fsub%2F"));
    assert!(a
        .body
        .contains("href=\"sing-box://import-remote-profile?url="));
    assert!(a.body.contains("noindex"));
}

#[tokio::test]
async fn an_expired_user_gets_an_empty_list_an_expiry_in_the_past_and_a_message() {
    let w = world().await;
    let p = w.person(1, Some((30, 60))).await;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    for ua in [V2RAYNG, SFA, CLASH] {
        let a = w.get(&sub(&p), &[(header::USER_AGENT, ua)]).await;
        assert_eq!(a.status, StatusCode::OK, "{ua}");
        assert!(expire(&a.headers) <= now - 29 * 86_400, "{ua}");
        let announce = a.headers["announce"].to_str().unwrap();
        assert!(
            unbase64(announce.strip_prefix("base64:").unwrap()).contains("ended")
                || unbase64(announce.strip_prefix("base64:").unwrap()).contains("закончилась")
        );
        assert!(
            !a.body.contains(&p.uuid.to_string()),
            "{ua} still carries the user's id"
        );
    }
    let page = w
        .get(
            &format!("{}?lang=en", sub(&p)),
            &[(header::ACCEPT, "text/html")],
        )
        .await;
    assert!(page.body.contains("Your subscription has ended."));
    assert!(!page.body.contains("vless://"));
}

#[tokio::test]
async fn a_blocked_user_is_told_so_and_gets_no_links() {
    let w = world().await;
    let p = w.person(1, Some((30, 0))).await;
    let user = w.store.user_by_sub_token(&p.token).await.unwrap().unwrap();
    w.store.set_blocked(user.id, true).await.unwrap();
    let a = w
        .get(
            &sub(&p),
            &[
                (header::USER_AGENT, V2RAYNG),
                (header::ACCEPT_LANGUAGE, "en"),
            ],
        )
        .await;
    assert_eq!(a.body, "");
    assert!(expire(&a.headers) <= OffsetDateTime::now_utc().unix_timestamp());
    let announce = a.headers["announce"]
        .to_str()
        .unwrap()
        .strip_prefix("base64:")
        .unwrap();
    assert_eq!(
        unbase64(announce),
        "Access is suspended. Please contact support."
    );
}

#[tokio::test]
async fn a_user_who_never_subscribed_is_pointed_to_the_bot() {
    let w = world().await;
    let p = w.person(1, None).await;
    let a = w
        .get(
            &format!("{}?lang=ru", sub(&p)),
            &[(header::USER_AGENT, V2RAYNG)],
        )
        .await;
    assert_eq!(a.body, "");
    let announce = a.headers["announce"]
        .to_str()
        .unwrap()
        .strip_prefix("base64:")
        .unwrap();
    assert!(unbase64(announce).contains("Подписки пока нет"));
}

#[tokio::test]
async fn unknown_and_malformed_tokens_are_an_ordinary_404_page() {
    let w = world().await;
    let unknown = SubscriptionToken::generate();
    for path in [
        format!("/sub/{}", unknown.as_str()),
        "/sub/not-a-token".into(),
        "/sub/%FF".into(),
    ] {
        let a = w.get(&path, &[(header::USER_AGENT, V2RAYNG)]).await;
        assert!(
            a.status == StatusCode::NOT_FOUND || a.status == StatusCode::BAD_REQUEST,
            "{path}: {}",
            a.status
        );
        assert_eq!(
            a.headers[header::CONTENT_TYPE],
            "text/html; charset=utf-8",
            "{path}"
        );
        assert!(a.headers.get("subscription-userinfo").is_none(), "{path}");
    }
}

#[tokio::test]
async fn a_real_token_and_a_guess_take_the_same_time_to_answer() {
    let w = world().await;
    let p = w.person(1, Some((30, 0))).await;
    let guess = format!("/sub/{}", SubscriptionToken::generate().as_str());
    for path in [sub(&p), guess] {
        let started = Instant::now();
        w.get(&path, &[(header::USER_AGENT, V2RAYNG)]).await;
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(200),
            "{path} answered in {took:?}"
        );
        assert!(
            took < Duration::from_millis(1500),
            "{path} answered in {took:?}"
        );
    }
}

#[tokio::test]
async fn without_the_app_there_is_no_subscription_endpoint() {
    let site = web::Site::new(web::SiteSettings::default());
    let token = SubscriptionToken::generate();
    let response = web::router(site)
        .oneshot(
            Request::get(format!("/sub/{}", token.as_str()))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn too_many_requests_from_one_client_are_slowed_down() {
    let w = world().await;
    let client: std::net::SocketAddr = "192.0.2.7:40000".parse().unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let router = w.router.clone();
        let token = SubscriptionToken::generate();
        tasks.spawn(async move {
            let request = Request::get(format!("/sub/{}", token.as_str()))
                .body(Body::empty())
                .unwrap();
            router
                .oneshot(from_client(client, request))
                .await
                .unwrap()
                .status()
        });
    }
    let statuses: Vec<StatusCode> = tasks.join_all().await;
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(limited, 10, "{statuses:?}");
    let request = Request::get("/sub/x").body(Body::empty()).unwrap();
    let response = w
        .router
        .clone()
        .oneshot(from_client(client, request))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()[header::RETRY_AFTER], "2");
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/html; charset=utf-8"
    );
}

#[tokio::test]
async fn the_language_switcher_on_the_page_stays_on_the_page() {
    let w = world().await;
    let p = w.person(1, Some((30, 0))).await;
    let a = w
        .get(
            &format!("{}?lang=ru", sub(&p)),
            &[(header::ACCEPT, "text/html")],
        )
        .await;
    assert!(a.body.contains(&format!("href=\"{}?lang=en\"", sub(&p))));
}
