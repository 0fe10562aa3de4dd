//! Account links that do not work, and what guessing one costs: one page that says nothing,
//! the minimum answer time, and the subscription pages' rate limit.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use domain::AccountLinkToken;
use time::OffsetDateTime;
use tower::ServiceExt;

use crate::answer::from_client;
use crate::world::{acct, assert_expired, world};

#[tokio::test]
async fn unknown_malformed_replaced_and_expired_links_get_one_page_that_says_nothing() {
    let w = world().await;
    let p = w.person(7007).await;
    // Expired: issued 20 minutes ago with the normal lifetime.
    let old = AccountLinkToken::generate();
    let issued = OffsetDateTime::now_utc() - time::Duration::minutes(20);
    w.store
        .issue_account_link(
            p.id,
            &old.hash(),
            issued,
            issued + app::account_link_lifetime(),
        )
        .await
        .unwrap();
    // Replaced: the bot gave a newer link since (which also revoked the expired one).
    let newer = w.new_link(p.id).await;
    let unknown = AccountLinkToken::generate();
    let mut bodies = Vec::new();
    for token in [
        p.link.as_str(),
        old.as_str(),
        unknown.as_str(),
        "short",
        "..%2F..%2Fetc",
    ] {
        let base = format!("/account/{token}");
        let answers = [
            w.get(&format!("{base}?lang=en")).await,
            w.get(&format!("{base}/delete?lang=en")).await,
            w.post(&format!("{base}/export?lang=en"), "").await,
            w.post(&format!("{base}/delete?lang=en"), "confirm=yes")
                .await,
            w.post(
                &format!("{base}/email?lang=en"),
                "email=a%40b.example&action=save",
            )
            .await,
        ];
        for answer in answers {
            assert_expired(&answer);
            bodies.push(answer.body);
        }
    }
    bodies.dedup();
    assert_eq!(bodies.len(), 1, "the pages differ: {bodies:#?}");
    assert!(w.store.user(p.id).await.unwrap().is_some());
    assert_eq!(w.email_of(&p).await.as_deref(), Some("first@mail.example"));
    // The newest link works.
    let page = w.get(&format!("/account/{newer}")).await;
    assert_eq!(page.status, StatusCode::OK);
}

#[tokio::test]
async fn a_real_link_and_a_guess_both_wait_the_minimum_answer_time() {
    let w = world().await;
    let p = w.person(7008).await;
    let guess = AccountLinkToken::generate();
    for uri in [acct(&p), format!("/account/{}", guess.as_str())] {
        let started = Instant::now();
        w.get(&uri).await;
        assert!(started.elapsed() >= Duration::from_millis(200), "{uri}");
        let started = Instant::now();
        w.post(&format!("{uri}/export"), "").await;
        assert!(started.elapsed() >= Duration::from_millis(200), "{uri}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_data_controls_share_the_subscription_pages_rate_limit() {
    let w = world().await;
    let client: std::net::SocketAddr = "192.0.2.9:40000".parse().unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..40 {
        let router = w.router.clone();
        let base = format!("/account/{}", AccountLinkToken::generate().as_str());
        let request = match i % 3 {
            0 => Request::post(format!("{base}/export")).body(Body::empty()),
            1 => Request::post(format!("{base}/email"))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("email=a%40b.example")),
            _ => Request::post(format!("{base}/delete"))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("confirm=yes")),
        };
        let request = from_client(client, request.unwrap());
        tasks.spawn(async move { router.oneshot(request).await.unwrap().status() });
    }
    let statuses: Vec<StatusCode> = tasks.join_all().await;
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(limited, 10, "{statuses:?}");
    // The subscription page draws from the same bucket.
    let request = Request::get("/sub/x").body(Body::empty()).unwrap();
    let response = w
        .router
        .clone()
        .oneshot(from_client(client, request))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
}
