//! Deleting the account: only with the box ticked, then everything and the link are gone.

use axum::http::{header, StatusCode};
use domain::TelegramId;

use crate::world::{acct, assert_expired, sub, world};

#[tokio::test]
async fn deletion_needs_the_box_ticked_then_erases_the_person_and_kills_the_link() {
    let w = world().await;
    let p = w.person(7006).await;
    let delete = format!("{}/delete", acct(&p));

    let confirm = w.get(&format!("{delete}?lang=en")).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert_eq!(confirm.headers[header::CACHE_CONTROL], "no-store");
    assert!(confirm
        .body
        .contains("type=\"checkbox\" name=\"confirm\" value=\"yes\""));
    assert!(confirm
        .body
        .contains(&format!("action=\"{delete}?lang=en\"")));

    for unticked in ["", "confirm=no"] {
        let refused = w.post(&delete, unticked).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(w.store.user(p.id).await.unwrap().is_some());
    }

    let done = w.post(&format!("{delete}?lang=en"), "confirm=yes").await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(done.body.contains("Account deleted"), "{}", done.body);
    assert!(w.store.user(p.id).await.unwrap().is_none());
    assert!(w.store.export_user(p.id).await.unwrap().is_none());
    assert!(w.store.user_by_sub_token(&p.token).await.unwrap().is_none());
    assert!(w
        .store
        .user_by_telegram(TelegramId(7006))
        .await
        .unwrap()
        .is_none());
    assert_eq!(w.get(&sub(&p)).await.status, StatusCode::NOT_FOUND);
    // The link is dead: every page of it says so, and a replay deletes nothing more.
    assert_expired(&w.get(&format!("{}?lang=en", acct(&p))).await);
    assert_expired(&w.post(&format!("{}/export?lang=en", acct(&p)), "").await);
    assert_expired(&w.post(&format!("{delete}?lang=en"), "confirm=yes").await);
}
