//! The reconciler, against the YooKassa emulator over HTTP on SQLite and PostgreSQL: lost
//! notifications and crashes are caught up, and its task stops on shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod card_shop;

use std::time::Duration;

use card_shop::*;
use domain::PaymentStatus;
use store::testing::TestDb;
use time::OffsetDateTime;

async fn a_lost_notification_is_caught_up_by_the_reconciler(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let (erin, token) = shop.customer(1005).await;
    let yk_id = shop.checkout(&token, "month").await;
    let (_, other_token) = shop.customer(1006).await;
    let unpaid = shop.checkout(&other_token, "month").await;
    shop.yk.succeed(&yk_id).unwrap();

    // Too fresh: left to its notification.
    let now = OffsetDateTime::now_utc();
    assert_eq!(shop.cards.reconcile_once(now).await.unwrap().checked, 0);

    let later = now + time::Duration::minutes(2);
    let report = shop.cards.reconcile_once(later).await.unwrap();
    assert_eq!(
        (report.checked, report.credited, report.still_pending),
        (2, 1, 1)
    );
    assert_eq!(days_left(&shop.subscription(&erin).await.unwrap()), 30);
    assert_eq!(shop.ours(&unpaid).await.status, PaymentStatus::Pending);

    shop.yk.cancel(&unpaid).unwrap();
    let report = shop.cards.reconcile_once(later).await.unwrap();
    assert_eq!((report.checked, report.canceled), (1, 1));
    assert_eq!(shop.ours(&unpaid).await.status, PaymentStatus::Canceled);
    assert_eq!(shop.cards.reconcile_once(later).await.unwrap().checked, 0);
}

async fn a_crash_after_yookassa_took_the_money_is_credited_after_restart(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let (frank, token) = shop.customer(1007).await;
    let yk_id = shop.checkout(&token, "month").await;
    let yk = shop.yk.clone();
    drop(shop); // the process dies before any notification is handled
    yk.succeed(&yk_id).unwrap();

    // A new process on the same database.
    let store = store::Store::connect(&db.url).await.unwrap();
    let restarted = Shop::open_with(store, loopback_is_yookassa(), yk).await;
    let later = OffsetDateTime::now_utc() + time::Duration::minutes(2);
    let report = restarted.cards.reconcile_once(later).await.unwrap();
    assert_eq!(report.credited, 1);
    assert_eq!(
        days_left(&restarted.subscription(&frank).await.unwrap()),
        30
    );
    // The notification YooKassa kept retrying arrives now: nothing twice.
    assert_eq!(
        restarted
            .yk
            .notify(&yk_id, &restarted.webhook_url())
            .await
            .unwrap(),
        200
    );
    assert_eq!(
        days_left(&restarted.subscription(&frank).await.unwrap()),
        30
    );
}

async fn the_reconciler_task_stops_on_shutdown(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let shutdown = tokio_util::sync::CancellationToken::new();
    let task = tokio::spawn(app::run_reconciler(
        shop.cards.clone(),
        Duration::from_millis(50),
        shutdown.clone(),
    ));
    tokio::time::sleep(Duration::from_millis(120)).await;
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("stops promptly")
        .unwrap();
}

store::backend_tests!(
    a_lost_notification_is_caught_up_by_the_reconciler,
    a_crash_after_yookassa_took_the_money_is_credited_after_restart,
    the_reconciler_task_stops_on_shutdown,
);
