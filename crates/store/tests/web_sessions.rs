//! Website sessions in the store, on SQLite and PostgreSQL: only the hash is kept, a login's
//! signature opens one session however many race for it, sign-out ends a session at once,
//! ended sessions are purged a day later, and they go with their person.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use domain::{UserId, WebSessionToken};
use sqlx::Row as _;
use store::testing::TestDb;
use time::{Duration, OffsetDateTime};

const NOW: OffsetDateTime = time::macros::datetime!(2026-04-01 12:00 UTC);

async fn open(db: &TestDb, user: UserId, digest: &str) -> (WebSessionToken, bool) {
    let token = WebSessionToken::generate();
    let created = db
        .store
        .create_web_session(&token.hash(), user, digest, NOW, NOW + Duration::days(30))
        .await
        .unwrap();
    (token, created)
}

async fn a_session_is_kept_as_a_hash_and_ends_at_sign_out(db: &TestDb) {
    let user = db.user(7001, NOW).await;
    let (token, created) = open(db, user.id, "d1").await;
    assert!(created);
    let owner = db
        .store
        .web_session_owner(&token.hash(), NOW)
        .await
        .unwrap();
    assert_eq!(owner, Some(user.id));
    let stored: String = sqlx::query("SELECT token_hash FROM web_sessions")
        .fetch_one(store::testing::pool(&db.store))
        .await
        .unwrap()
        .get("token_hash");
    assert_ne!(stored, token.as_str());
    assert_eq!(stored, token.hash().as_str());
    let later = NOW + Duration::days(30);
    assert_eq!(
        db.store
            .web_session_owner(&token.hash(), later)
            .await
            .unwrap(),
        None
    );

    assert!(db.store.end_web_session(&token.hash(), NOW).await.unwrap());
    assert!(!db.store.end_web_session(&token.hash(), NOW).await.unwrap());
    assert_eq!(
        db.store
            .web_session_owner(&token.hash(), NOW)
            .await
            .unwrap(),
        None
    );
    // Kept a day after it ended (its login digest refuses a replay), then purged.
    assert_eq!(
        db.store
            .count_ended_web_sessions(NOW - Duration::seconds(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(db.store.count_ended_web_sessions(NOW).await.unwrap(), 1);
    assert!(
        !open(db, user.id, "d1").await.1,
        "the same login opens no second session"
    );
    assert_eq!(db.store.purge_web_sessions(NOW).await.unwrap(), 1);
}

async fn racing_logins_with_one_signature_open_one_session(db: &TestDb) {
    let user = db.user(7002, NOW).await;
    let store = Arc::new(db.store.clone());
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let token = WebSessionToken::generate();
            store
                .create_web_session(&token.hash(), user.id, "same", NOW, NOW + Duration::days(1))
                .await
                .unwrap()
        }));
    }
    let mut opened = 0;
    for t in tasks {
        opened += usize::from(t.await.unwrap());
    }
    assert_eq!(opened, 1);
}

async fn sessions_go_with_their_person(db: &TestDb) {
    let user = db.user(7003, NOW).await;
    let (token, _) = open(db, user.id, "d3").await;
    db.store.erase_user(user.id).await.unwrap();
    assert_eq!(
        db.store
            .web_session_owner(&token.hash(), NOW)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        db.store
            .count_ended_web_sessions(NOW + Duration::days(99))
            .await
            .unwrap(),
        0
    );
    let gone = db
        .store
        .create_web_session(&token.hash(), user.id, "d4", NOW, NOW + Duration::days(1))
        .await;
    assert!(
        matches!(gone, Err(store::StoreError::UserNotFound)),
        "{gone:?}"
    );
}

store::backend_tests!(
    a_session_is_kept_as_a_hash_and_ends_at_sign_out,
    racing_logins_with_one_signature_open_one_session,
    sessions_go_with_their_person,
);
