//! Setting, changing and removing the email; an invalid one; a blocked person's.

use axum::http::StatusCode;

use crate::world::{acct, world};

#[tokio::test]
async fn email_can_be_changed_removed_and_set_again() {
    let w = world().await;
    let p = w.person(7003).await;
    let email = format!("{}/email", acct(&p));

    let changed = w
        .post(&email, "email=second%40mail.example&action=save")
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER);
    assert_eq!(
        changed.location(),
        format!("{}?notice=email-saved#data", acct(&p))
    );
    assert_eq!(w.email_of(&p).await.as_deref(), Some("second@mail.example"));
    let page = w
        .get(&format!("{}?lang=en&notice=email-saved", acct(&p)))
        .await;
    assert!(page.body.contains("Email saved."), "{}", page.body);
    assert!(page.body.contains("second@mail.example"));

    let removed = w.post(&email, "email=&action=remove").await;
    assert_eq!(
        removed.location(),
        format!("{}?notice=email-removed#data", acct(&p))
    );
    assert_eq!(w.email_of(&p).await, None);

    let set = w
        .post(&email, "email=third%40mail.example&action=save")
        .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER);
    assert_eq!(w.email_of(&p).await.as_deref(), Some("third@mail.example"));
}

#[tokio::test]
async fn an_invalid_email_changes_nothing_and_says_so() {
    let w = world().await;
    let p = w.person(7004).await;
    let answer = w
        .post(
            &format!("{}/email?lang=en", acct(&p)),
            "email=not+an+email&action=save",
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(
        answer.location(),
        format!("{}?lang=en&notice=email-invalid#data", acct(&p))
    );
    assert_eq!(w.email_of(&p).await.as_deref(), Some("first@mail.example"));
    let page = w
        .get(&format!("{}?lang=en&notice=email-invalid", acct(&p)))
        .await;
    assert!(page.body.contains("does not look like an email"));
}

#[tokio::test]
async fn a_blocked_person_may_download_and_delete_but_not_change_the_email() {
    let w = world().await;
    let p = w.person(7005).await;
    w.store.set_blocked(p.id, true).await.unwrap();

    let page = w.get(&format!("{}?lang=en", acct(&p))).await;
    assert!(
        page.body.contains("the email cannot be changed"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("name=\"email\""));

    let refused = w
        .post(
            &format!("{}/email", acct(&p)),
            "email=x%40y.example&action=save",
        )
        .await;
    assert_eq!(
        refused.location(),
        format!("{}?notice=email-blocked#data", acct(&p))
    );
    assert_eq!(w.email_of(&p).await.as_deref(), Some("first@mail.example"));

    let export = w.post(&format!("{}/export", acct(&p)), "").await;
    assert_eq!(export.status, StatusCode::OK);
    let deleted = w.post(&format!("{}/delete", acct(&p)), "confirm=yes").await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert!(w.store.user(p.id).await.unwrap().is_none());
}
