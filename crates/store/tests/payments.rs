//! Payments on both backends: credited exactly once, however the settlement arrives.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use domain::{Days, Money, NewUser, PaymentStatus, PlanId, Provider, TelegramId, User, UserId};
use store::testing::TestDb;
use store::{NewPayment, Settlement, StoreError};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const NOW: OffsetDateTime = datetime!(2026-04-01 12:00 UTC);

async fn user(db: &TestDb, telegram_id: i64) -> User {
    db.store
        .create_user(&NewUser::from_telegram_id(TelegramId(telegram_id)), NOW)
        .await
        .unwrap()
}

fn yookassa(user: UserId, provider_id: Option<&str>) -> NewPayment {
    NewPayment {
        user_id: user,
        provider: Provider::YooKassa,
        provider_payment_id: provider_id.map(str::to_owned),
        plan: PlanId("month".into()),
        days: Days(30),
        amount: Money::rub_kopecks(19_900),
        created_at: NOW,
    }
}

fn stars(user: UserId, charge_id: &str) -> NewPayment {
    NewPayment {
        user_id: user,
        provider: Provider::TelegramStars,
        provider_payment_id: Some(charge_id.into()),
        plan: PlanId("month".into()),
        days: Days(30),
        amount: Money::stars(150),
        created_at: NOW,
    }
}

async fn a_created_payment_is_pending_and_found_by_both_ids(db: &TestDb) {
    let u = user(db, 1).await;
    let payment = db
        .store
        .create_payment(&yookassa(u.id, Some("yk-1")))
        .await
        .unwrap();
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
    let u = user(db, 1).await;
    db.store
        .create_payment(&yookassa(u.id, Some("same")))
        .await
        .unwrap();
    let again = db.store.create_payment(&yookassa(u.id, Some("same"))).await;
    assert!(
        matches!(again, Err(StoreError::ProviderPaymentIdTaken)),
        "{again:?}"
    );
    // Pending payments without a provider id yet do not collide with each other.
    db.store
        .create_payment(&yookassa(u.id, None))
        .await
        .unwrap();
    db.store
        .create_payment(&yookassa(u.id, None))
        .await
        .unwrap();
    assert_eq!(db.store.list_payments(None).await.unwrap().len(), 3);
}

async fn a_payment_for_an_unknown_user_is_refused(db: &TestDb) {
    let err = db.store.create_payment(&yookassa(UserId(999), None)).await;
    assert!(matches!(err, Err(StoreError::UserNotFound)), "{err:?}");
    let err = db.store.record_paid(&stars(UserId(999), "c")).await;
    assert!(matches!(err, Err(StoreError::UserNotFound)), "{err:?}");
}

async fn settling_a_payment_twice_credits_once(db: &TestDb) {
    let u = user(db, 1).await;
    let payment = db
        .store
        .create_payment(&yookassa(u.id, None))
        .await
        .unwrap();
    let later = NOW + Duration::hours(1);
    let first = db
        .store
        .settle_payment(payment.id, PaymentStatus::Succeeded, Some("yk-9"), later)
        .await
        .unwrap();
    let Settlement::Credited(sub) = first else {
        panic!("not credited: {first:?}")
    };
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
    let u = user(db, 1).await;
    let payment = db
        .store
        .create_payment(&yookassa(u.id, Some("yk-race")))
        .await
        .unwrap();
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
    let u = user(db, 1).await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(
            db.store
                .create_payment(&yookassa(u.id, None))
                .await
                .unwrap()
                .id,
        );
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
    let u = user(db, 1).await;
    let payment = db
        .store
        .create_payment(&yookassa(u.id, None))
        .await
        .unwrap();
    let canceled = db
        .store
        .settle_payment(payment.id, PaymentStatus::Canceled, None, NOW)
        .await;
    assert_eq!(canceled.unwrap(), Settlement::Marked);
    let late = db
        .store
        .settle_payment(payment.id, PaymentStatus::Succeeded, None, NOW)
        .await;
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
    let u = user(db, 1).await;
    let payment = db
        .store
        .create_payment(&yookassa(u.id, None))
        .await
        .unwrap();
    db.store
        .settle_payment(payment.id, PaymentStatus::Succeeded, None, NOW)
        .await
        .unwrap();
    let refund = db
        .store
        .settle_payment(payment.id, PaymentStatus::Refunded, None, NOW)
        .await;
    assert_eq!(refund.unwrap(), Settlement::Marked);
    assert_eq!(
        db.store.payment(payment.id).await.unwrap().unwrap().status,
        PaymentStatus::Refunded
    );
    assert!(db.store.subscription(u.id).await.unwrap().is_some());
}

async fn settling_an_unknown_payment_says_so(db: &TestDb) {
    let err = db
        .store
        .settle_payment(domain::PaymentId(4040), PaymentStatus::Succeeded, None, NOW)
        .await;
    assert!(matches!(err, Err(StoreError::PaymentNotFound)), "{err:?}");
}

async fn a_stars_charge_credits_once_even_when_replayed(db: &TestDb) {
    let u = user(db, 1).await;
    let first = db
        .store
        .record_paid(&stars(u.id, "charge-1"))
        .await
        .unwrap();
    let Settlement::Credited(sub) = first else {
        panic!("not credited: {first:?}")
    };
    assert_eq!(sub.ends_at, NOW + Duration::days(30));
    let replay = db
        .store
        .record_paid(&stars(u.id, "charge-1"))
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
    let u = user(db, 1).await;
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let store = db.store.clone();
            let payment = stars(u.id, "charge-race");
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
    let u = user(db, 1).await;
    let mut payment = stars(u.id, "x");
    payment.provider_payment_id = None;
    let err = db.store.record_paid(&payment).await;
    assert!(
        matches!(err, Err(StoreError::MissingProviderPaymentId)),
        "{err:?}"
    );
}

async fn pending_payments_are_listed_for_the_reconciler(db: &TestDb) {
    let u = user(db, 1).await;
    let old = db
        .store
        .create_payment(&yookassa(u.id, Some("old")))
        .await
        .unwrap();
    let done = db
        .store
        .create_payment(&yookassa(u.id, Some("done")))
        .await
        .unwrap();
    db.store
        .settle_payment(done.id, PaymentStatus::Succeeded, None, NOW)
        .await
        .unwrap();
    let mut fresh = yookassa(u.id, Some("fresh"));
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
    let u = user(db, 1).await;
    let payment = db
        .store
        .create_payment(&yookassa(u.id, Some("late")))
        .await
        .unwrap();
    db.store.erase_user(u.id).await.unwrap();
    let late = db
        .store
        .settle_payment(payment.id, PaymentStatus::Succeeded, None, NOW)
        .await;
    assert_eq!(late.unwrap(), Settlement::Uncreditable);
    let stored = db.store.payment(payment.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.user_id, stored.status),
        (None, PaymentStatus::Pending),
        "left pending until the money is given back"
    );
    let refunded = db
        .store
        .settle_payment(payment.id, PaymentStatus::Refunded, None, NOW)
        .await;
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
