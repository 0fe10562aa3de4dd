//! Users and credentials on both backends: creating, finding, correcting, listing.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use domain::{Days, Email, Language, NewUser, PlanId, TelegramId, UserRef};
use store::testing::TestDb;
use store::StoreError;
use time::macros::datetime;
use time::OffsetDateTime;

const NOW: OffsetDateTime = datetime!(2026-04-01 12:00 UTC);

fn person(telegram_id: i64) -> NewUser {
    NewUser {
        telegram_id: TelegramId(telegram_id),
        first_name: "Анна".into(),
        last_name: Some("Smith".into()),
        username: Some("anna_s".into()),
        language: Language::En,
        consent_at: Some(NOW),
    }
}

async fn a_created_user_is_found_by_either_id(db: &TestDb) {
    let store = &db.store;
    let created = store.create_user(&person(4242), NOW).await.unwrap();
    assert_eq!(created.telegram_id, TelegramId(4242));
    assert_eq!(created.created_at, NOW);

    let by_internal = store
        .find_user(UserRef(created.id.0))
        .await
        .unwrap()
        .unwrap();
    let by_telegram = store.find_user(UserRef(4242)).await.unwrap().unwrap();
    assert_eq!(by_internal, created);
    assert_eq!(by_telegram, created);
    assert_eq!(
        store.user_by_telegram(TelegramId(4242)).await.unwrap(),
        Some(created.clone())
    );
    assert_eq!(store.user(created.id).await.unwrap(), Some(created));
    assert_eq!(store.find_user(UserRef(999_999)).await.unwrap(), None);
}

async fn a_telegram_id_belongs_to_one_user_only(db: &TestDb) {
    db.store.create_user(&person(7), NOW).await.unwrap();
    let again = db.store.create_user(&person(7), NOW).await;
    assert!(
        matches!(again, Err(StoreError::TelegramIdTaken)),
        "{again:?}"
    );
}

async fn new_users_get_distinct_credentials(db: &TestDb) {
    let a = db.store.create_user(&person(1), NOW).await.unwrap();
    let b = db.user(2, NOW).await;
    let ca = db.credentials(a.id).await;
    let cb = db.credentials(b.id).await;
    assert_ne!(ca.vless_uuid, cb.vless_uuid);
    assert_ne!(ca.sub_token, cb.sub_token);
    assert_eq!(
        db.store
            .user_by_sub_token(&ca.sub_token)
            .await
            .unwrap()
            .map(|u| u.id),
        Some(a.id)
    );
}

async fn rotating_the_token_invalidates_the_old_one(db: &TestDb) {
    let user = db.store.create_user(&person(3), NOW).await.unwrap();
    let old = db.sub_token(user.id).await;
    let new = db.store.rotate_sub_token(user.id).await.unwrap();
    assert_ne!(old, new);
    assert_eq!(db.store.user_by_sub_token(&old).await.unwrap(), None);
    assert_eq!(
        db.store
            .user_by_sub_token(&new)
            .await
            .unwrap()
            .map(|u| u.id),
        Some(user.id)
    );
    assert_eq!(db.sub_token(user.id).await, new);
}

async fn email_can_be_set_changed_and_removed(db: &TestDb) {
    let user = db.store.create_user(&person(5), NOW).await.unwrap();
    let first: Email = "a@example.com".parse().unwrap();
    let second: Email = "b@example.org".parse().unwrap();
    db.store.set_email(user.id, Some(&first)).await.unwrap();
    assert_eq!(
        db.store.user(user.id).await.unwrap().unwrap().email,
        Some(first)
    );
    db.store.set_email(user.id, Some(&second)).await.unwrap();
    assert_eq!(
        db.store.user(user.id).await.unwrap().unwrap().email,
        Some(second)
    );
    db.store.set_email(user.id, None).await.unwrap();
    assert_eq!(db.store.user(user.id).await.unwrap().unwrap().email, None);
}

async fn the_profile_follows_telegram(db: &TestDb) {
    let user = db.store.create_user(&person(6), NOW).await.unwrap();
    db.store
        .update_profile(user.id, "Bob", None, Some("bobby"), Language::Ru)
        .await
        .unwrap();
    let user = db.store.user(user.id).await.unwrap().unwrap();
    assert_eq!(
        (
            user.first_name.as_str(),
            user.last_name,
            user.username.as_deref(),
            user.language
        ),
        ("Bob", None, Some("bobby"), Language::Ru)
    );
    let later = NOW + time::Duration::days(3);
    db.store.touch_last_seen(user.id, later).await.unwrap();
    assert_eq!(db.store.last_seen(user.id).await.unwrap(), Some(later));
}

async fn changing_an_unknown_user_says_so(db: &TestDb) {
    let ghost = domain::UserId(12345);
    assert!(matches!(
        db.store.set_blocked(ghost, true).await,
        Err(StoreError::UserNotFound)
    ));
    assert!(matches!(
        db.store.set_email(ghost, None).await,
        Err(StoreError::UserNotFound)
    ));
    assert!(matches!(
        db.store.rotate_sub_token(ghost).await,
        Err(StoreError::UserNotFound)
    ));
    assert!(matches!(
        db.store
            .grant_days(ghost, PlanId("m".into()), Days(30), NOW)
            .await,
        Err(StoreError::UserNotFound)
    ));
    assert!(matches!(
        db.store.erase_user(ghost).await,
        Err(StoreError::UserNotFound)
    ));
    assert_eq!(db.store.credentials(ghost).await.unwrap(), None);
}

async fn users_are_listed_in_pages_with_their_subscriptions(db: &TestDb) {
    let mut ids = Vec::new();
    for tg in 100..105 {
        ids.push(db.store.create_user(&person(tg), NOW).await.unwrap().id);
    }
    db.grant(ids[1], "month", 30, NOW).await;
    let first = db.store.list_users(0, 3).await.unwrap();
    let rest = db.store.list_users(3, 10).await.unwrap();
    assert_eq!(
        first.iter().map(|s| s.user.id).collect::<Vec<_>>(),
        ids[..3]
    );
    assert_eq!(rest.iter().map(|s| s.user.id).collect::<Vec<_>>(), ids[3..]);
    assert_eq!(first[0].subscription, None);
    let sub = first[1].subscription.as_ref().unwrap();
    assert_eq!(
        (sub.user_id, sub.ends_at),
        (ids[1], NOW + Days(30).duration())
    );
}

async fn stats_count_users_active_subscriptions_and_blocks(db: &TestDb) {
    let a = db.store.create_user(&person(1), NOW).await.unwrap();
    let b = db.store.create_user(&person(2), NOW).await.unwrap();
    let c = db.store.create_user(&person(3), NOW).await.unwrap();
    db.grant(a.id, "m", 30, NOW).await;
    db.grant(b.id, "m", 30, NOW).await;
    db.grant(c.id, "m", 1, NOW - time::Duration::days(10)).await;
    db.store.set_blocked(b.id, true).await.unwrap();
    let stats = db.store.stats(NOW).await.unwrap();
    assert_eq!(
        (stats.users, stats.active_subscriptions, stats.blocked),
        (3, 1, 1)
    );
}

async fn debug_output_shows_no_connection_details_or_personal_data(db: &TestDb) {
    let shown = format!("{:?}", db.store);
    assert!(
        !shown.contains("postgres://") && !shown.contains("sqlite://"),
        "{shown}"
    );
    let user = db.store.create_user(&person(77), NOW).await.unwrap();
    db.store
        .set_email(user.id, Some(&"anna@example.com".parse().unwrap()))
        .await
        .unwrap();
    db.grant(user.id, "m", 3, NOW).await;
    let credentials = db.credentials(user.id).await;
    let shown = format!(
        "{:?} {:?} {:?}",
        db.store.list_users(0, 10).await.unwrap(),
        credentials,
        db.store.access_snapshot().await.unwrap(),
    );
    for secret in [
        "Анна",
        "Smith",
        "anna_s",
        "anna@example.com",
        "77",
        credentials.sub_token.as_str(),
        &credentials.vless_uuid.to_string(),
    ] {
        assert!(
            !shown.contains(secret),
            "Debug output shows {secret}: {shown}"
        );
    }
}

store::backend_tests!(
    a_created_user_is_found_by_either_id,
    a_telegram_id_belongs_to_one_user_only,
    new_users_get_distinct_credentials,
    rotating_the_token_invalidates_the_old_one,
    email_can_be_set_changed_and_removed,
    the_profile_follows_telegram,
    changing_an_unknown_user_says_so,
    users_are_listed_in_pages_with_their_subscriptions,
    stats_count_users_active_subscriptions_and_blocks,
    debug_output_shows_no_connection_details_or_personal_data,
);
