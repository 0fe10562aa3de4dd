//! Granting days and the free trial on both backends.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use domain::{Days, PlanId, Subscription, UserId, TRIAL_PLAN_ID};
use store::testing::TestDb;
use store::TrialOutcome;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const NOW: OffsetDateTime = datetime!(2026-04-01 12:00 UTC);

fn month() -> PlanId {
    PlanId("month".into())
}

/// `user` claims the three-day trial under `key`, at `NOW`.
async fn claim(db: &TestDb, key: &str, user: UserId) -> TrialOutcome {
    db.store.claim_trial(key, user, Days(3), NOW).await.unwrap()
}

async fn granting_days_to_a_user_without_a_subscription_starts_one_now(db: &TestDb) {
    let user = db.user(1, NOW).await;
    assert_eq!(db.store.subscription(user.id).await.unwrap(), None);
    let sub = db.grant(user.id, "month", 30, NOW).await;
    assert_eq!(
        sub,
        Subscription::start(user.id, month(), Days(30), NOW).unwrap()
    );
    assert_eq!(db.store.subscription(user.id).await.unwrap(), Some(sub));
}

async fn extending_an_active_subscription_adds_to_its_end(db: &TestDb) {
    let user = db.user(1, NOW).await;
    db.grant(user.id, "month", 30, NOW).await;
    let later = NOW + Duration::days(10);
    let sub = db.grant(user.id, "year", 365, later).await;
    assert_eq!(sub.activated_at, NOW, "the period continues");
    assert_eq!(sub.ends_at, NOW + Duration::days(30 + 365));
    assert_eq!(sub.plan, PlanId("year".into()));
    assert_eq!(db.store.subscription(user.id).await.unwrap(), Some(sub));
}

async fn extending_an_expired_subscription_restarts_from_now(db: &TestDb) {
    let user = db.user(1, NOW).await;
    db.grant(user.id, "month", 30, NOW).await;
    let much_later = NOW + Duration::days(100);
    let sub = db.grant(user.id, "month", 30, much_later).await;
    assert_eq!(sub.activated_at, much_later);
    assert_eq!(sub.ends_at, much_later + Duration::days(30));
}

async fn absurd_day_counts_change_nothing(db: &TestDb) {
    let user = db.user(1, NOW).await;
    let revision = db.store.access_revision().await.unwrap();
    assert!(db
        .store
        .grant_days(user.id, month(), Days(0), NOW)
        .await
        .is_err());
    assert!(db
        .store
        .grant_days(user.id, month(), Days(100_000), NOW)
        .await
        .is_err());
    assert_eq!(db.store.subscription(user.id).await.unwrap(), None);
    assert_eq!(
        db.store.access_revision().await.unwrap(),
        revision,
        "rolled back"
    );
}

async fn concurrent_grants_are_all_counted(db: &TestDb) {
    let user = db.user(1, NOW).await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = db.store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .grant_days(user.id, month(), Days(10), NOW)
                .await
                .unwrap()
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let sub = db.store.subscription(user.id).await.unwrap().unwrap();
    assert_eq!(sub.ends_at, NOW + Duration::days(80));
}

async fn the_trial_is_granted_once_per_key(db: &TestDb) {
    let user = db.user(1, NOW).await;
    let first = claim(db, "key-1", user.id).await;
    let TrialOutcome::Granted(sub) = first else {
        panic!("first claim refused")
    };
    assert_eq!(sub.plan, PlanId(TRIAL_PLAN_ID.into()));
    assert_eq!(sub.ends_at, NOW + Duration::days(3));
    let again = claim(db, "key-1", user.id).await;
    assert_eq!(again, TrialOutcome::AlreadyUsed);
    assert_eq!(db.store.subscription(user.id).await.unwrap(), Some(sub));
}

async fn the_trial_cannot_be_taken_again_after_erasure(db: &TestDb) {
    let user = db.user(9, NOW).await;
    let first = claim(db, "hash-of-9", user.id).await;
    assert!(matches!(first, TrialOutcome::Granted(_)));
    db.store.erase_user(user.id).await.unwrap();
    let back = db.user(9, NOW).await;
    let again = claim(db, "hash-of-9", back.id).await;
    assert_eq!(again, TrialOutcome::AlreadyUsed);
    assert_eq!(db.store.subscription(back.id).await.unwrap(), None);
}

async fn concurrent_trial_claims_grant_once(db: &TestDb) {
    let user = db.user(1, NOW).await;
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let store = db.store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .claim_trial("same", user.id, Days(3), NOW)
                .await
                .unwrap()
        }));
    }
    let mut granted = 0;
    for task in tasks {
        if matches!(task.await.unwrap(), TrialOutcome::Granted(_)) {
            granted += 1;
        }
    }
    assert_eq!(granted, 1);
    let sub = db.store.subscription(user.id).await.unwrap().unwrap();
    assert_eq!(sub.ends_at, NOW + Duration::days(3));
}

async fn a_failed_trial_claim_leaves_the_key_unused(db: &TestDb) {
    let ghost = UserId(404);
    let failed = db.store.claim_trial("key", ghost, Days(3), NOW).await;
    assert!(
        matches!(failed, Err(store::StoreError::UserNotFound)),
        "{failed:?}"
    );
    let user = db.user(1, NOW).await;
    let claimed = claim(db, "key", user.id).await;
    assert!(matches!(claimed, TrialOutcome::Granted(_)));
}

store::backend_tests!(
    a_failed_trial_claim_leaves_the_key_unused,
    granting_days_to_a_user_without_a_subscription_starts_one_now,
    extending_an_active_subscription_adds_to_its_end,
    extending_an_expired_subscription_restarts_from_now,
    absurd_day_counts_change_nothing,
    concurrent_grants_are_all_counted,
    the_trial_is_granted_once_per_key,
    the_trial_cannot_be_taken_again_after_erasure,
    concurrent_trial_claims_grant_once,
);
