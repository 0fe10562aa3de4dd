//! The website as a visitor, a browser and a scanner see it, driven through the public router.
// A test that unwraps fails loudly, which is what a test should do.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use tower::ServiceExt;

const PAGES: [&str; 4] = ["/", "/privacy", "/terms", "/support"];

fn config() -> config::Config {
    let mut c = config::Config::default();
    c.service.name = "Nimbus VPN".into();
    c.service.public_url = "https://nimbus.example".into();
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

fn router_with(c: config::Config) -> axum::Router {
    web::router(web::Site::new(Arc::new(c)))
}

fn router() -> axum::Router {
    router_with(config())
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

async fn send(router: axum::Router, request: Request<Body>) -> Answer {
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

async fn get(router: axum::Router, uri: &str) -> Answer {
    send(router, Request::get(uri).body(Body::empty()).unwrap()).await
}

/// The stylesheet and icon URLs a page links to.
fn asset_links(html: &str) -> Vec<String> {
    html.split("href=\"/assets/")
        .skip(1)
        .map(|rest| format!("/assets/{}", &rest[..rest.find('"').unwrap()]))
        .collect()
}

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
async fn every_answer_carries_the_security_headers_and_no_server_name() {
    let requests = [
        Request::get("/").body(Body::empty()).unwrap(),
        Request::get("/healthz").body(Body::empty()).unwrap(),
        Request::get("/no/such/page").body(Body::empty()).unwrap(),
        Request::post("/privacy").body(Body::from("x")).unwrap(),
        Request::get("/lang/en").body(Body::empty()).unwrap(),
    ];
    for request in requests {
        let uri = request.uri().clone();
        let a = send(router(), request).await;
        let h = &a.headers;
        assert_eq!(
            h[header::CONTENT_SECURITY_POLICY],
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
             base-uri 'none'; frame-ancestors 'none'",
            "{uri}"
        );
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{uri}");
        assert_eq!(h[header::REFERRER_POLICY], "no-referrer", "{uri}");
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY", "{uri}");
        assert!(
            h["permissions-policy"]
                .to_str()
                .unwrap()
                .contains("camera=()"),
            "{uri}"
        );
        assert_eq!(
            h[header::STRICT_TRANSPORT_SECURITY],
            "max-age=31536000",
            "{uri}"
        );
        assert!(h.get(header::SERVER).is_none(), "{uri}");
    }
}

#[tokio::test]
async fn a_site_without_tls_does_not_ask_browsers_for_https() {
    let a = get(router_with(config::Config::default()), "/").await;
    assert!(a.headers.get(header::STRICT_TRANSPORT_SECURITY).is_none());
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
    let site = web::Site::new(Arc::new(config())).with_bot_username("nimbus_vpn_bot");
    let a = get(web::router(site), "/").await;
    assert!(a.body.contains("href=\"https://t.me/nimbus_vpn_bot\""));
}

#[tokio::test]
async fn without_a_trial_or_plans_the_home_page_says_so() {
    let mut c = config();
    c.trial.days = 0;
    c.plans.clear();
    let a = get(router_with(c), "/?lang=en").await;
    assert!(!a.body.contains("Try it free"));
    assert!(a.body.contains("Plans are coming soon."));
}

#[tokio::test]
async fn the_privacy_policy_has_every_section_in_both_languages() {
    let en = get(router(), "/privacy?lang=en").await.body;
    for heading in [
        "Privacy Policy",
        "1. General Provisions",
        "2. Personal Data Processed",
        "3. Purposes of Processing",
        "4. Legal Basis",
        "5. Data Collection",
        "6. Storage and Protection",
        "7. Third-Party Sharing",
        "8. Retention Period",
        "9. User Rights",
        "10. Cookies and Analytics",
        "11. Policy Changes",
        "12. Contact Information",
    ] {
        assert!(en.contains(heading), "{heading} missing");
    }
    let ru = get(router(), "/privacy?lang=ru").await.body;
    for heading in [
        "Политика конфиденциальности",
        "1. Общие положения",
        "6. Хранение и защита",
        "9. Права Пользователя",
        "12. Контактная информация",
    ] {
        assert!(ru.contains(heading), "{heading} missing");
    }
}

#[tokio::test]
async fn the_legal_texts_name_this_operator_and_no_other() {
    for path in ["/privacy", "/terms"] {
        for lang in ["ru", "en"] {
            let body = get(router(), &format!("{path}?lang={lang}")).await.body;
            assert!(body.contains("ИП Иванов И. И."), "{path} {lang}");
            assert!(body.contains("<a href=\"mailto:help@nimbus.example\">help@nimbus.example</a>"));
            assert!(body.contains("<a href=\"https://t.me/nimbus_help\">@nimbus_help</a>"));
            if path == "/privacy" {
                assert!(body.contains("<a href=\"https://nimbus.example/\">nimbus.example</a>"));
            }
            let lower = body.to_lowercase();
            for foreign in [
                "millyvpn",
                "millyload",
                "trellaskymilly",
                "millyrellen",
                "{",
            ] {
                assert!(
                    !lower.contains(foreign),
                    "{path} {lang} still says {foreign}"
                );
            }
        }
    }
}

#[tokio::test]
async fn the_privacy_policy_shows_the_data_inventory_it_is_given() {
    let entry = web::InventoryEntry {
        data: "Telegram user ID (users.telegram_id)".into(),
        category: "Telegram user ID".into(),
        purpose: "User identification".into(),
        retention: "3 years after the last subscription".into(),
    };
    let site = web::Site::new(Arc::new(config())).with_data_inventory(vec![entry]);
    let with = get(web::router(site), "/privacy?lang=en").await.body;
    assert!(with.contains("id=\"data-inventory\""));
    assert!(with.contains("<td>Telegram user ID (users.telegram_id)</td>"));
    let without = get(router(), "/privacy?lang=en").await.body;
    assert!(!without.contains("id=\"data-inventory\""));
}

#[tokio::test]
async fn configured_text_is_escaped_not_executed() {
    let mut c = config();
    c.service.operator = "<script>alert(1)</script>".into();
    let body = get(router_with(c), "/privacy").await.body;
    assert!(!body.contains("<script>"));
    assert!(body.contains("&lt;script&gt;") || body.contains("&#60;script&#62;"));
}

#[tokio::test]
async fn unset_contacts_are_marked_rather_than_left_blank() {
    let body = get(router_with(config::Config::default()), "/privacy?lang=en")
        .await
        .body;
    assert!(body.contains("(not specified)"));
    assert!(body.contains("the owner of the milly service"));
}

#[tokio::test]
async fn no_page_or_asset_refers_to_anything_outside_the_operators_own_addresses() {
    let mut bodies: Vec<(String, String)> = Vec::new();
    let mut assets = Vec::new();
    for path in PAGES.into_iter().chain(["/nope", "/support/x"]) {
        for lang in ["ru", "en"] {
            let uri = format!("{path}?lang={lang}");
            let body = get(router(), &uri).await.body;
            assets.extend(asset_links(&body));
            bodies.push((uri, body));
        }
    }
    assets.sort();
    assets.dedup();
    assert_eq!(assets.len(), 2, "a stylesheet and an icon: {assets:?}");
    for asset in assets {
        let a = get(router(), &asset).await;
        assert_eq!(a.status, StatusCode::OK, "{asset}");
        bodies.push((asset, a.body));
    }
    let allowed = [
        "https://nimbus.example/",
        "https://t.me/",
        // The SVG namespace names a specification; nothing is fetched from it.
        "http://www.w3.org/2000/svg",
    ];
    for (uri, body) in &bodies {
        for scheme in ["http://", "https://"] {
            for (at, _) in body.match_indices(scheme) {
                let url = &body[at..];
                assert!(
                    allowed.iter().any(|a| url.starts_with(a)),
                    "{uri} refers to {}",
                    &url[..url.len().min(60)]
                );
            }
        }
        for forbidden in ["=\"//", "<script", "@import", "url(http", "src=\"http"] {
            assert!(!body.contains(forbidden), "{uri} contains {forbidden}");
        }
    }
}

#[tokio::test]
async fn assets_are_served_with_a_long_cache_under_their_hashed_names() {
    let home = get(router(), "/").await.body;
    let css = asset_links(&home)
        .into_iter()
        .find(|a| a.ends_with(".css"))
        .unwrap();
    let a = get(router(), &css).await;
    assert_eq!(a.headers[header::CONTENT_TYPE], "text/css; charset=utf-8");
    assert_eq!(
        a.headers[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert!(a.body.contains("@media"));
    let stale = get(router(), "/assets/site.0000000000000000.css").await;
    assert_eq!(stale.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_unknown_path_is_a_404_page_in_the_sites_own_look() {
    let a = get(router(), "/wp-login.php").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    assert!(a.body.contains("Страница не найдена"));
    assert!(a.body.contains("href=\"/assets/site."));
    assert!(a.body.contains("<nav>"));
    let en = get(router(), "/wp-login.php?lang=en").await;
    assert!(en.body.contains("Page not found"));
}

#[tokio::test]
async fn junk_requests_get_ordinary_answers_without_internal_text() {
    let long = format!("/{}", "a".repeat(8000));
    let cases: Vec<(Request<Body>, StatusCode)> = vec![
        (
            Request::post("/").body(Body::from("junk")).unwrap(),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            Request::delete("/privacy").body(Body::empty()).unwrap(),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            Request::get("/assets/%FF%FE").body(Body::empty()).unwrap(),
            StatusCode::BAD_REQUEST,
        ),
        (
            Request::get("/lang/xx").body(Body::empty()).unwrap(),
            StatusCode::NOT_FOUND,
        ),
        (
            Request::get("/..%2f..%2fetc/passwd")
                .body(Body::empty())
                .unwrap(),
            StatusCode::NOT_FOUND,
        ),
        (
            Request::get(long.as_str()).body(Body::empty()).unwrap(),
            StatusCode::NOT_FOUND,
        ),
        (
            Request::post("/")
                .header(header::CONTENT_LENGTH, "10000000")
                .body(Body::from(vec![0u8; 10_000_000]))
                .unwrap(),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            Request::builder()
                .method(Method::from_bytes(b"PROPFIND").unwrap())
                .uri("/")
                .body(Body::empty())
                .unwrap(),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
    ];
    for (request, expected) in cases {
        let what = format!(
            "{} {}",
            request.method(),
            &request.uri().to_string()[..20.min(request.uri().to_string().len())]
        );
        let a = send(router(), request).await;
        assert_eq!(a.status, expected, "{what}");
        assert_eq!(
            a.headers[header::CONTENT_TYPE],
            "text/html; charset=utf-8",
            "{what}"
        );
        let lower = a.body.to_lowercase();
        for leak in [
            "axum",
            "hyper",
            "tower",
            "invalid url",
            "failed to",
            "length limit",
            "rust",
        ] {
            assert!(!lower.contains(leak), "{what} says {leak}");
        }
    }
}

#[tokio::test]
async fn a_wrong_method_says_which_methods_are_allowed() {
    let a = send(
        router(),
        Request::post("/terms").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(a.headers[header::ALLOW].to_str().unwrap().contains("GET"));
}

#[tokio::test]
async fn the_language_switcher_remembers_the_choice_in_a_functional_cookie() {
    let a = get(router(), "/lang/en?back=/privacy").await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.headers[header::LOCATION], "/privacy?lang=en");
    assert_eq!(
        a.headers[header::SET_COOKIE],
        "lang=en; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax; Secure"
    );
    let plain = get(router_with(config::Config::default()), "/lang/ru").await;
    assert_eq!(plain.headers[header::LOCATION], "/?lang=ru");
    assert!(!plain.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Secure"));
}

#[tokio::test]
async fn the_switcher_never_redirects_off_the_site() {
    for back in [
        "https://evil.example/",
        "//evil.example",
        "/\\evil.example",
        "/privacy/../x",
    ] {
        let a = get(router(), &format!("/lang/en?back={back}")).await;
        assert_eq!(a.headers[header::LOCATION], "/?lang=en", "{back}");
    }
}

#[tokio::test]
async fn only_the_switcher_sets_a_cookie() {
    for path in PAGES.into_iter().chain(["/nope", "/healthz"]) {
        let a = get(router(), &format!("{path}?lang=en")).await;
        assert!(a.headers.get(header::SET_COOKIE).is_none(), "{path}");
    }
}

#[tokio::test]
async fn the_language_follows_cookie_then_browser_then_defaults_to_russian() {
    let request = |headers: &[(header::HeaderName, &str)]| {
        let mut r = Request::get("/support");
        for (k, v) in headers {
            r = r.header(k, *v);
        }
        r.body(Body::empty()).unwrap()
    };
    let by_cookie = send(
        router(),
        request(&[(header::COOKIE, "lang=en"), (header::ACCEPT_LANGUAGE, "ru")]),
    )
    .await;
    assert!(by_cookie.body.contains("<html lang=\"en\">"));
    let by_browser = send(
        router(),
        request(&[(header::ACCEPT_LANGUAGE, "en-US,en;q=0.9")]),
    )
    .await;
    assert!(by_browser.body.contains("<html lang=\"en\">"));
    let default = send(router(), request(&[(header::ACCEPT_LANGUAGE, "de")])).await;
    assert!(default.body.contains("<html lang=\"ru\">"));
}

#[tokio::test]
async fn links_keep_the_language_only_when_it_came_from_the_address() {
    let by_query = get(router(), "/?lang=en").await.body;
    assert!(by_query.contains("href=\"/privacy?lang=en\""));
    let by_default = get(router(), "/").await.body;
    assert!(by_default.contains("href=\"/privacy\""));
    assert!(by_default.contains("href=\"/lang/en?back=/\""));
}

#[tokio::test]
async fn the_support_page_lists_the_operators_contacts() {
    let body = get(router(), "/support?lang=en").await.body;
    assert!(body.contains("href=\"mailto:help@nimbus.example\""));
    assert!(body.contains("href=\"https://t.me/nimbus_help\""));
    let empty = get(router_with(config::Config::default()), "/support?lang=en")
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
async fn extra_routes_share_the_sites_headers_and_error_pages() {
    let extra = axum::Router::new().route(
        "/admin/metrics",
        axum::routing::get(|| async { StatusCode::UNAUTHORIZED }),
    );
    let router = web::router_with(web::Site::new(Arc::new(config())), extra);
    let a = get(router.clone(), "/admin/metrics").await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    assert_eq!(a.headers[header::X_FRAME_OPTIONS], "DENY");
    let home = get(router, "/").await;
    assert_eq!(home.status, StatusCode::OK);
}

#[tokio::test]
async fn healthz_answers_ok() {
    let a = get(router(), "/healthz").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body, "ok");
}
