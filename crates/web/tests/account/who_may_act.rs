//! Who may act on the data: not the subscription token, not a GET, not another site's form.

use axum::http::{header, StatusCode};

use crate::world::{acct, sub, world, SUPPORT_TEXT};

#[tokio::test]
async fn the_subscription_token_alone_can_no_longer_export_change_or_delete() {
    let w = world().await;
    let p = w.person(7011).await;
    let base = sub(&p);
    let answers = [
        w.get(&format!("{base}/export")).await,
        w.post(&format!("{base}/export"), "").await,
        w.get(&format!("{base}/delete?lang=en")).await,
        w.post(&format!("{base}/delete"), "confirm=yes").await,
        w.post(
            &format!("{base}/email"),
            "email=thief%40evil.example&action=save",
        )
        .await,
        w.post(&format!("{base}/email"), "action=remove").await,
        // Nor does the subscription token open the account pages.
        w.get(&format!("/account/{}", p.token.as_str())).await,
        w.post(&format!("/account/{}/export", p.token.as_str()), "")
            .await,
        w.post(
            &format!("/account/{}/delete", p.token.as_str()),
            "confirm=yes",
        )
        .await,
    ];
    for answer in &answers {
        assert_eq!(answer.status, StatusCode::GONE);
        assert!(!answer.body.contains("first@mail.example"));
        assert!(!answer.body.contains(SUPPORT_TEXT));
        assert!(answer.headers.get(header::CONTENT_DISPOSITION).is_none());
    }
    // The old addresses say where to go, and say the same whatever the token.
    assert!(
        answers[2].body.contains("ask the bot for a link"),
        "{}",
        answers[2].body
    );
    let guessed = w
        .get(&format!("/sub/{}/delete?lang=en", "C".repeat(22)))
        .await;
    assert_eq!(guessed.status, answers[2].status);
    assert_eq!(guessed.body, answers[2].body);
    assert!(w.store.user(p.id).await.unwrap().is_some());
    assert_eq!(w.email_of(&p).await.as_deref(), Some("first@mail.example"));
}

#[tokio::test]
async fn only_post_acts_and_a_form_from_another_site_does_nothing() {
    let w = world().await;
    let p = w.person(7012).await;
    // A link, a preview or a prefetch cannot act: GET on the action addresses is refused.
    for path in ["/export", "/email"] {
        let answer = w.get(&format!("{}{path}", acct(&p))).await;
        assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED, "{path}");
        assert!(answer.headers.get(header::CONTENT_DISPOSITION).is_none());
    }
    let confirm = w.get(&format!("{}/delete?confirm=yes", acct(&p))).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(w.store.user(p.id).await.unwrap().is_some());

    let evil = [
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site")],
        vec![
            ("origin", "https://evil.example"),
            ("host", "nimbus.example"),
        ],
        vec![("origin", "null"), ("host", "nimbus.example")],
    ];
    for headers in &evil {
        let export = w
            .post_from(&format!("{}/export", acct(&p)), "", headers)
            .await;
        assert_eq!(export.status, StatusCode::FORBIDDEN, "{headers:?}");
        assert!(!export.body.contains(SUPPORT_TEXT));
        let email = w
            .post_from(
                &format!("{}/email", acct(&p)),
                "email=thief%40evil.example&action=save",
                headers,
            )
            .await;
        assert_eq!(email.status, StatusCode::FORBIDDEN, "{headers:?}");
        let delete = w
            .post_from(&format!("{}/delete", acct(&p)), "confirm=yes", headers)
            .await;
        assert_eq!(delete.status, StatusCode::FORBIDDEN, "{headers:?}");
    }
    assert_eq!(w.email_of(&p).await.as_deref(), Some("first@mail.example"));
    assert!(w.store.user(p.id).await.unwrap().is_some());

    // The site's own page posting to itself is fine.
    let own = [
        ("sec-fetch-site", "same-origin"),
        ("origin", "https://nimbus.example"),
        ("host", "nimbus.example"),
    ];
    let saved = w
        .post_from(
            &format!("{}/email", acct(&p)),
            "email=mine%40mail.example&action=save",
            &own,
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert_eq!(w.email_of(&p).await.as_deref(), Some("mine@mail.example"));
}
