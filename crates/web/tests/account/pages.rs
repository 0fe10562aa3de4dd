//! What the account pages show: the data controls in both languages, a read-only subscription
//! page, and a download that is the very document the bot and the CLI give.

use axum::http::{header, StatusCode};
use domain::UserRef;

use crate::world::{acct, sub, world, SUPPORT_TEXT};

#[tokio::test]
async fn the_data_page_offers_download_email_and_deletion_in_both_languages() {
    let w = world().await;
    let p = w.person(7001).await;
    let en = w.get(&format!("{}?lang=en", acct(&p))).await;
    assert_eq!(en.status, StatusCode::OK);
    assert_eq!(en.headers[header::CACHE_CONTROL], "no-store");
    for part in [
        format!("method=\"post\" action=\"{}/export?lang=en\"", acct(&p)),
        format!("method=\"post\" action=\"{}/email?lang=en\"", acct(&p)),
        format!("href=\"{}/delete?lang=en\"", acct(&p)),
        "Download my data".to_owned(),
        "first@mail.example".to_owned(),
        "works for 15 minutes".to_owned(),
        "Withdrawing your consent".to_owned(),
    ] {
        assert!(en.body.contains(&part), "{part} missing: {}", en.body);
    }
    // The page is about the person's data; the subscription secret is not on it.
    assert!(!en.body.contains(p.token.as_str()));
    let ru = w.get(&format!("{}?lang=ru", acct(&p))).await;
    assert!(ru.body.contains("Скачать мои данные"), "{}", ru.body);
    assert!(ru.body.contains("Удалить аккаунт"), "{}", ru.body);
}

#[tokio::test]
async fn the_subscription_page_is_read_only_and_points_to_the_bot() {
    let w = world().await;
    let p = w.person(7010).await;
    let page = w.get(&format!("{}?lang=en", sub(&p))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Manage my data on the website"),
        "{}",
        page.body
    );
    for gone in [
        "<form",
        "/export",
        "/email",
        "/delete",
        "first@mail.example",
    ] {
        assert!(!page.body.contains(gone), "{gone} on the subscription page");
    }
}

#[tokio::test]
async fn the_download_is_the_same_document_as_the_bot_and_the_cli_give() {
    let w = world().await;
    let p = w.person(7002).await;
    let answer = w.post(&format!("{}/export", acct(&p)), "").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.headers[header::CONTENT_DISPOSITION],
        "attachment; filename=\"my-data.json\""
    );
    assert_eq!(answer.headers[header::CACHE_CONTROL], "no-store");
    assert!(answer.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let downloaded: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    let expected = w.app.export(UserRef(p.id.0)).await.unwrap();
    assert_eq!(downloaded, expected);
    // The document is complete: the email and the support message are in it.
    assert!(answer.body.contains("first@mail.example"));
    assert!(answer.body.contains(SUPPORT_TEXT));
    // The link's secret is not in it.
    assert!(!answer.body.contains(&p.link));
}
