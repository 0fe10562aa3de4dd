//! Card auto-renewal's claims on both backends: however many callers race, each attempt of a
//! period is claimed once with its one pending payment; a retry waits for its time and for the
//! previous attempt to be canceled; the attempts are capped; switching off deletes the row.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use domain::{Days, Money, PaymentStatus, PlanId, Provider, UserId};
use store::testing::TestDb;
use store::NewPayment;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const NOW: OffsetDateTime = datetime!(2026-12-08 12:00 UTC);
const END: OffsetDateTime = datetime!(2026-12-09 06:00 UTC);
const RETRY: Duration = Duration::hours(8);

fn charge(user: UserId, at: OffsetDateTime) -> NewPayment {
    NewPayment {
        user_id: user,
        provider: Provider::YooKassa,
        provider_payment_id: None,
        plan: PlanId("month".into()),
        days: Days(30),
        amount: Money::rub_kopecks(19_900),
        created_at: at,
    }
}

async fn on(db: &TestDb, telegram_id: i64) -> UserId {
    let user = db.user(telegram_id, NOW).await;
    db.store
        .enable_auto_renewal(user.id, &PlanId("month".into()), "pm-1", NOW)
        .await
        .unwrap();
    user.id
}

async fn racing_callers_claim_an_attempt_once(db: &TestDb) {
    let user = on(db, 501).await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = db.store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .claim_renewal_attempt(&charge(user, NOW), END, NOW + RETRY, 3)
                .await
                .unwrap()
        }));
    }
    let mut claimed = Vec::new();
    for task in tasks {
        claimed.extend(task.await.unwrap());
    }
    assert_eq!(claimed.len(), 1, "one attempt, one pending payment");
    assert_eq!(claimed[0].number, 1);
    assert_eq!(claimed[0].payment_method_id, "pm-1");
    assert_eq!(db.store.list_payments(Some(user)).await.unwrap().len(), 1);
}

async fn a_retry_waits_for_its_time_and_a_canceled_attempt_and_is_capped(db: &TestDb) {
    let user = on(db, 502).await;
    let store = &db.store;
    let first = store
        .claim_renewal_attempt(&charge(user, NOW), END, NOW + RETRY, 3)
        .await
        .unwrap()
        .unwrap();
    let later = NOW + RETRY;
    // The first attempt is still pending: no retry even when its time has come.
    assert!(store
        .claim_renewal_attempt(&charge(user, later), END, later + RETRY, 3)
        .await
        .unwrap()
        .is_none());
    store
        .settle_payment(first.payment.id, PaymentStatus::Canceled, None, later)
        .await
        .unwrap();
    // Canceled, but too early.
    let early = NOW + Duration::hours(1);
    assert!(store
        .claim_renewal_attempt(&charge(user, early), END, early + RETRY, 3)
        .await
        .unwrap()
        .is_none());
    let second = store
        .claim_renewal_attempt(&charge(user, later), END, later + RETRY, 3)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.number, 2);
    let last = later + RETRY;
    store
        .settle_payment(second.payment.id, PaymentStatus::Canceled, None, last)
        .await
        .unwrap();
    let third = store
        .claim_renewal_attempt(&charge(user, last), END, last + RETRY, 3)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(third.number, 3);
    store
        .settle_payment(third.payment.id, PaymentStatus::Canceled, None, last)
        .await
        .unwrap();
    let after = last + RETRY;
    assert!(
        store
            .claim_renewal_attempt(&charge(user, after), END, after + RETRY, 3)
            .await
            .unwrap()
            .is_none(),
        "three attempts at most"
    );
    // A new period starts counting again.
    let next_end = END + Duration::days(30);
    let fresh = store
        .claim_renewal_attempt(&charge(user, after), next_end, after + RETRY, 3)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fresh.number, 1);
}

async fn switching_off_deletes_the_row_and_nothing_is_claimed(db: &TestDb) {
    let user = on(db, 503).await;
    assert!(db.store.auto_renewal(user).await.unwrap().is_some());
    assert!(db.store.disable_auto_renewal(user).await.unwrap());
    assert!(!db.store.disable_auto_renewal(user).await.unwrap());
    assert!(db.store.auto_renewal(user).await.unwrap().is_none());
    assert!(db
        .store
        .claim_renewal_attempt(&charge(user, NOW), END, NOW + RETRY, 3)
        .await
        .unwrap()
        .is_none());
    assert!(db.store.list_payments(Some(user)).await.unwrap().is_empty());
}

store::backend_tests!(
    racing_callers_claim_an_attempt_once,
    a_retry_waits_for_its_time_and_a_canceled_attempt_and_is_capped,
    switching_off_deletes_the_row_and_nothing_is_claimed,
);
