//! Payments on both backends: credited exactly once, however the settlement arrives.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use domain::{Money, PaymentId, PaymentStatus, Provider, Subscription, UserId};
use store::testing::{card_payment, stars_payment, TestDb};
use store::{Settlement, StoreError};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const NOW: OffsetDateTime = datetime!(2026-04-01 12:00 UTC);

/// The subscription `settlement` credited; anything else fails the test.
fn credited(settlement: Settlement) -> Subscription {
    match settlement {
        Settlement::Credited(sub) => sub,
        other => panic!("not credited: {other:?}"),
    }
}

/// Settles payment `id` as `status` at `NOW`, YooKassa's id already known.
async fn settle(
    db: &TestDb,
    id: PaymentId,
    status: PaymentStatus,
) -> Result<Settlement, StoreError> {
    db.store.settle_payment(id, status, None, NOW).await
}

async fn a_created_payment_is_pending_and_found_by_both_ids(db: &TestDb) {
    let u = db.user(1, NOW).await;
    let payment = db.pending(&card_payment(u.id, Some("yk-1"), NOW)).await;
    assert_eq!(payment.status, PaymentStatus::Pending);
    assert_eq!(payment.user_id, Some(u.id));
    assert_eq!(payment.amount, Money::rub_kopecks(19_900));
    assert_eq!((payment.created_at, payment.updated_at), (NOW, NOW));
    assert_eq!(
        db.store.payment(payment.id).await.unwrap(),
        Some(payment.clone())
    );
    let by_provider = db
        .store
        .payment_by_provider_id(Provider::YooKassa, "yk-1")
        .await
        .unwrap();
    assert_eq!(by_provider, Some(payment.clone()));
    assert_eq!(
        db.store
            .payment_by_provider_id(Provider::TelegramStars, "yk-1")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        db.store.list_payments(Some(u.id)).await.unwrap(),
        vec![payment]
    );
}

async fn a_provider_id_is_recorded_once_per_provider(db: &TestDb) {
    let u = db.user(1, NOW).await;
    db.pending(&card_payment(u.id, Some("same"), NOW)).await;
    let again = db
        .store
        .create_payment(&card_payment(u.id, Some("same"), NOW))
        .await;
    assert!(
        matches!(again, Err(StoreError::ProviderPaymentIdTaken)),
        "{again:?}"
    );
    // Pending payments without a provider id yet do not collide with each other.
    db.pending(&card_payment(u.id, None, NOW)).await;
    db.pending(&card_payment(u.id, None, NOW)).await;
    assert_eq!(db.store.list_payments(None).await.unwrap().len(), 3);
}

async fn a_payment_for_an_unknown_user_is_refused(db: &TestDb) {
    let err = db
        .store
        .create_payment(&card_payment(UserId(999), None, NOW))
        .await;
    assert!(matches!(err, Err(StoreError::UserNotFound)), "{err:?}");
    let err = db
        .store
        .record_paid(&stars_payment(UserId(999), "c", NOW))
        .await;
    assert!(matches!(err, Err(StoreError::UserNotFound)), "{err:?}");
}

async fn settling_a_payment_twice_credits_once(db: &TestDb) {
    let u = db.user(1, NOW).await;
    let payment = db.pending(&card_payment(u.id, None, NOW)).await;
    let later = NOW + Duration::hours(1);
    let first = db
        .store
        .settle_payment(payment.id, PaymentStatus::Succeeded, Some("yk-9"), later)
        .await
        .unwrap();
    let sub = credited(first);
    assert_eq!(sub.ends_at, later + Duration::days(30));
    let second = db
        .store
        .settle_payment(payment.id, PaymentStatus::Succeeded, Some("yk-9"), later)
        .await
        .unwrap();
    assert_eq!(second, Settlement::AlreadySettled);
    assert_eq!(db.store.subscription(u.id).await.unwrap(), Some(sub));
    let stored = db.store.payment(payment.id).await.unwrap().unwrap();
    assert_eq!(stored.status, PaymentStatus::Succeeded);
    assert_eq!(stored.provider_payment_id.as_deref(), Some("yk-9"));
    assert_eq!(stored.updated_at, later);
}

async fn concurrent_settlements_credit_once(db: &TestDb) {
    let u = db.user(1, NOW).await;
    let payment = db.pending(&card_payment(u.id, Some("yk-race"), NOW)).await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = db.store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .settle_payment(payment.id, PaymentStatus::Succeeded, None, NOW)
                .await
                .unwrap()
        }));
    }
    let mut credited = 0;
    for task in tasks {
        match task.await.unwrap() {
            Settlement::Credited(_) => credited += 1,
            Settlement::AlreadySettled => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(credited, 1);
    let sub = db.store.subscription(u.id).await.unwrap().unwrap();
    assert_eq!(sub.ends_at, NOW + Duration::days(30));
}

async fn different_payments_settled_together_all_count(db: &TestDb) {
    let u = db.user(1, NOW).await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(db.pending(&card_payment(u.id, None, NOW)).await.id);
    }
    let tasks: Vec<_> = ids
        .into_iter()
        .map(|id| {
            let store = db.store.clone();
            tokio::spawn(async move {
                store
                    .settle_payment(id, PaymentStatus::Succeeded, None, NOW)
                    .await
                    .unwrap()
            })
        })
        .collect();
    for task in tasks {
        assert!(matches!(task.await.unwrap(), Settlement::Credited(_)));
    }
    let sub = db.store.subscription(u.id).await.unwrap().unwrap();
    assert_eq!(sub.ends_at, NOW + Duration::days(150));
}

async fn a_canceled_payment_credits_nothing_and_cannot_succeed_later(db: &TestDb) {
    let u = db.user(1, NOW).await;
    let payment = db.pending(&card_payment(u.id, None, NOW)).await;
    let canceled = settle(db, payment.id, PaymentStatus::Canceled).await;
    assert_eq!(canceled.unwrap(), Settlement::Marked);
    let late = settle(db, payment.id, PaymentStatus::Succeeded).await;
    assert!(
        matches!(
            late,
            Err(StoreError::InvalidTransition {
                from: PaymentStatus::Canceled,
                to: PaymentStatus::Succeeded
            })
        ),
        "{late:?}"
    );
    assert_eq!(db.store.subscription(u.id).await.unwrap(), None);
}

async fn a_refund_marks_the_payment_and_keeps_the_days(db: &TestDb) {
    let u = db.user(1, NOW).await;
    let payment = db.pending(&card_payment(u.id, None, NOW)).await;
    settle(db, payment.id, PaymentStatus::Succeeded)
        .await
        .unwrap();
    let refund = settle(db, payment.id, PaymentStatus::Refunded).await;
    assert_eq!(refund.unwrap(), Settlement::Marked);
    assert_eq!(
        db.store.payment(payment.id).await.unwrap().unwrap().status,
        PaymentStatus::Refunded
    );
    assert!(db.store.subscription(u.id).await.unwrap().is_some());
}

async fn settling_an_unknown_payment_says_so(db: &TestDb) {
    let err = settle(db, PaymentId(4040), PaymentStatus::Succeeded).await;
    assert!(matches!(err, Err(StoreError::PaymentNotFound)), "{err:?}");
}

async fn a_stars_charge_credits_once_even_when_replayed(db: &TestDb) {
    let u = db.user(1, NOW).await;
    let first = db
        .store
        .record_paid(&stars_payment(u.id, "charge-1", NOW))
        .await
        .unwrap();
    let sub = credited(first);
    assert_eq!(sub.ends_at, NOW + Duration::days(30));
    let replay = db
        .store
        .record_paid(&stars_payment(u.id, "charge-1", NOW))
        .await
        .unwrap();
    assert_eq!(replay, Settlement::AlreadySettled);
    assert_eq!(db.store.subscription(u.id).await.unwrap(), Some(sub));
    let recorded = db
        .store
        .payment_by_provider_id(Provider::TelegramStars, "charge-1")
        .await;
    let recorded = recorded.unwrap().unwrap();
    assert_eq!(
        (recorded.status, recorded.amount),
        (PaymentStatus::Succeeded, Money::stars(150))
    );
    assert_eq!(db.store.list_payments(Some(u.id)).await.unwrap().len(), 1);
}

async fn concurrent_stars_duplicates_credit_once(db: &TestDb) {
    let u = db.user(1, NOW).await;
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let store = db.store.clone();
            let payment = stars_payment(u.id, "charge-race", NOW);
            tokio::spawn(async move { store.record_paid(&payment).await.unwrap() })
        })
        .collect();
    let mut credited = 0;
    for task in tasks {
        if matches!(task.await.unwrap(), Settlement::Credited(_)) {
            credited += 1;
        }
    }
    assert_eq!(credited, 1);
    assert_eq!(
        db.store.subscription(u.id).await.unwrap().unwrap().ends_at,
        NOW + Duration::days(30)
    );
}

async fn a_paid_report_without_a_charge_id_is_refused(db: &TestDb) {
    let u = db.user(1, NOW).await;
    let mut payment = stars_payment(u.id, "x", NOW);
    payment.provider_payment_id = None;
    let err = db.store.record_paid(&payment).await;
    assert!(
        matches!(err, Err(StoreError::MissingProviderPaymentId)),
        "{err:?}"
    );
}

async fn pending_payments_are_listed_for_the_reconciler(db: &TestDb) {
    let u = db.user(1, NOW).await;
    let old = db.pending(&card_payment(u.id, Some("old"), NOW)).await;
    let done = db.pending(&card_payment(u.id, Some("done"), NOW)).await;
    settle(db, done.id, PaymentStatus::Succeeded).await.unwrap();
    let mut fresh = card_payment(u.id, Some("fresh"), NOW);
    fresh.created_at = NOW + Duration::hours(2);
    db.store.create_payment(&fresh).await.unwrap();
    let pending = db
        .store
        .pending_payments(Provider::YooKassa, NOW + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(
        pending.iter().map(|p| p.id).collect::<Vec<_>>(),
        vec![old.id]
    );
}

async fn a_payment_settled_after_its_payer_was_erased_credits_no_one(db: &TestDb) {
    let u = db.user(1, NOW).await;
    let payment = db.pending(&card_payment(u.id, Some("late"), NOW)).await;
    db.store.erase_user(u.id).await.unwrap();
    let late = settle(db, payment.id, PaymentStatus::Succeeded).await;
    assert_eq!(late.unwrap(), Settlement::Uncreditable);
    let stored = db.store.payment(payment.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.user_id, stored.status),
        (None, PaymentStatus::Pending),
        "left pending until the money is given back"
    );
    let refunded = settle(db, payment.id, PaymentStatus::Refunded).await;
    assert_eq!(refunded.unwrap(), Settlement::Marked);
    let stored = db.store.payment(payment.id).await.unwrap().unwrap();
    assert_eq!(stored.status, PaymentStatus::Refunded);
    assert_eq!(stored.refunded_minor, stored.amount.minor);
}

store::backend_tests!(
    a_payment_settled_after_its_payer_was_erased_credits_no_one,
    a_created_payment_is_pending_and_found_by_both_ids,
    a_provider_id_is_recorded_once_per_provider,
    a_payment_for_an_unknown_user_is_refused,
    settling_a_payment_twice_credits_once,
    concurrent_settlements_credit_once,
    different_payments_settled_together_all_count,
    a_canceled_payment_credits_nothing_and_cannot_succeed_later,
    a_refund_marks_the_payment_and_keeps_the_days,
    settling_an_unknown_payment_says_so,
    a_stars_charge_credits_once_even_when_replayed,
    concurrent_stars_duplicates_credit_once,
    a_paid_report_without_a_charge_id_is_refused,
    pending_payments_are_listed_for_the_reconciler,
);
