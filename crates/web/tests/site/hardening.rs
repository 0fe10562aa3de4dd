//! What a browser and a scanner get: security headers, no outside references, cached
//! assets, and ordinary answers to unknown paths, junk and wrong methods.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};

use crate::router::{asset_links, get, router, router_with, send, settings, PAGES};

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
    let a = get(router_with(web::SiteSettings::default()), "/").await;
    assert!(a.headers.get(header::STRICT_TRANSPORT_SECURITY).is_none());
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
async fn extra_routes_share_the_sites_headers_and_error_pages() {
    let extra = axum::Router::new().route(
        "/admin/metrics",
        axum::routing::get(|| async { StatusCode::UNAUTHORIZED }),
    );
    let router = web::router_with(web::Site::new(settings()), extra);
    let a = get(router.clone(), "/admin/metrics").await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    assert_eq!(a.headers[header::X_FRAME_OPTIONS], "DENY");
    let home = get(router, "/").await;
    assert_eq!(home.status, StatusCode::OK);
}
