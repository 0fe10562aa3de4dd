//! The language: chosen by the switcher (the only cookie), the browser or the address, and
//! never a way off the site.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};

use crate::router::{get, router, router_with, send, PAGES};

#[tokio::test]
async fn the_language_switcher_remembers_the_choice_in_a_functional_cookie() {
    let a = get(router(), "/lang/en?back=/privacy").await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.headers[header::LOCATION], "/privacy?lang=en");
    assert_eq!(
        a.headers[header::SET_COOKIE],
        "lang=en; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax; Secure"
    );
    let plain = get(router_with(web::SiteSettings::default()), "/lang/ru").await;
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
