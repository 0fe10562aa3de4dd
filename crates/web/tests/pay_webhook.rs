//! YooKassa's notifications at `POST /webhooks/yookassa`, against the emulator over HTTP on
//! SQLite and PostgreSQL: a payment is credited once however the notifications arrive, forged,
//! foreign and oversized notifications change nothing, only YooKassa's networks are heard (also
//! behind a local proxy), and no card data ever reaches the database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod card_shop;

use std::sync::Arc;

use app::SyncOutcome;
use billing::SourcePolicy;
use card_shop::*;
use domain::PaymentStatus;
use serde_json::json;
use store::testing::TestDb;
use time::OffsetDateTime;
use yookassa_emulator::{CARD_FIRST6, CARD_ISSUER_NAME, CARD_LAST4};

async fn paying_and_a_notification_credit_the_plan_once(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let mut paid = shop.cards.subscribe();
    let (alice, token) = shop.customer(1001).await;

    let yk_id = shop.checkout(&token, "month").await;
    let ours = shop.ours(&yk_id).await;
    assert_eq!(ours.status, PaymentStatus::Pending);
    assert_eq!(ours.amount, domain::Money::rub_kopecks(19_900));

    // What YooKassa was asked for, on the wire.
    let sent = &shop.yk.recorded()[0];
    assert_eq!(sent.endpoint, "POST /v3/payments");
    assert!(!sent.idempotence_key.is_empty());
    let body = &sent.body;
    assert_eq!(
        body["amount"],
        json!({"value": "199.00", "currency": "RUB"})
    );
    assert_eq!(body["capture"], true);
    assert_eq!(body["confirmation"]["type"], "redirect");
    let return_url = body["confirmation"]["return_url"].as_str().unwrap();
    let token = return_url
        .strip_prefix(&shop.url("/pay/return?t="))
        .expect("the return URL carries a token, not the payment's number");
    let by_token = shop
        .store()
        .payment_by_return_token(&token.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(by_token.map(|p| p.id), Some(ours.id));
    assert_eq!(body["metadata"], json!({"payment_id": ours.id.to_string()}));
    assert_eq!(body["receipt"]["customer"]["email"], RECEIPT_EMAIL);
    let item = &body["receipt"]["items"][0];
    assert_eq!(item["quantity"], "1.00");
    assert_eq!(item["amount"]["value"], "199.00");
    assert_eq!(item["vat_code"], 1);
    assert_eq!(item["payment_mode"], "full_payment");
    assert_eq!(item["payment_subject"], "service");

    assert!(
        shop.subscription(&alice).await.is_none(),
        "nothing before paying"
    );
    shop.yk.succeed(&yk_id).unwrap();
    assert_eq!(shop.notify(&yk_id).await, 200);
    let sub = shop.subscription(&alice).await.expect("credited");
    assert_eq!(days_left(&sub), 30);
    assert_eq!(shop.ours(&yk_id).await.status, PaymentStatus::Succeeded);
    let event = paid.try_recv().unwrap();
    assert_eq!((event.user, event.payment), (alice.id, ours.id));

    // YooKassa repeats itself: nothing more happens.
    assert_eq!(shop.notify(&yk_id).await, 200);
    assert_eq!(shop.subscription(&alice).await, Some(sub));
    assert!(paid.try_recv().is_err(), "one credit, one event");
}

async fn concurrent_notifications_credit_once(db: &TestDb) {
    let shop = Arc::new(Shop::open(db.store.clone(), loopback_is_yookassa()).await);
    let mut paid = shop.cards.subscribe();
    let (bob, token) = shop.customer(1002).await;
    let yk_id = shop.checkout(&token, "quarter").await;
    shop.yk.succeed(&yk_id).unwrap();

    let mut racing = Vec::new();
    for _ in 0..12 {
        let shop = shop.clone();
        let id = yk_id.clone();
        racing.push(tokio::spawn(async move { shop.notify(&id).await }));
    }
    for r in racing {
        assert_eq!(r.await.unwrap(), 200);
    }
    // The reconciler joins in too.
    let later = OffsetDateTime::now_utc() + time::Duration::minutes(5);
    shop.cards.reconcile_once(later).await.unwrap();

    let sub = shop.subscription(&bob).await.unwrap();
    assert_eq!(days_left(&sub), 90, "90 days once, not twelve times");
    assert!(paid.try_recv().is_ok());
    assert!(paid.try_recv().is_err());
}

async fn forged_notifications_change_nothing(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let (carol, token) = shop.customer(1003).await;
    let yk_id = shop.checkout(&token, "month").await;

    // An id YooKassa never issued.
    let mut forged = json!({
        "type": "notification",
        "event": "payment.succeeded",
        "object": {"id": "2c79a0e6-000f-5000-9000-1a5d0c0b2b1e", "status": "succeeded",
                   "paid": true, "amount": {"value": "199.00", "currency": "RUB"},
                   "metadata": {"payment_id": shop.ours(&yk_id).await.id.to_string()}},
    });
    assert_eq!(
        shop.yk.deliver(&shop.webhook_url(), &forged).await.unwrap(),
        404
    );

    // A real, unpaid payment claimed as paid in the body: the API says pending.
    forged["object"]["id"] = json!(yk_id);
    assert_eq!(
        shop.yk.deliver(&shop.webhook_url(), &forged).await.unwrap(),
        200
    );
    assert_eq!(shop.ours(&yk_id).await.status, PaymentStatus::Pending);
    assert!(shop.subscription(&carol).await.is_none());

    // Not a notification at all.
    let junk = json!({"hello": "world"});
    assert_eq!(
        shop.yk.deliver(&shop.webhook_url(), &junk).await.unwrap(),
        400
    );
    let not_a_payment = json!({"type": "notification", "event": "refund.succeeded",
                               "object": {"id": "x"}});
    assert_eq!(
        shop.yk
            .deliver(&shop.webhook_url(), &not_a_payment)
            .await
            .unwrap(),
        200
    );
    assert_eq!(shop.ours(&yk_id).await.status, PaymentStatus::Pending);
}

async fn notifications_from_outside_yookassas_networks_are_refused(db: &TestDb) {
    // The real networks: the emulator on loopback is not in them.
    let shop = Shop::open(db.store.clone(), SourcePolicy::default()).await;
    let (dave, token) = shop.customer(1004).await;
    let yk_id = shop.checkout(&token, "month").await;
    shop.yk.succeed(&yk_id).unwrap();
    let calls = shop.yk.api_calls();
    assert_eq!(shop.notify(&yk_id).await, 403);
    assert_eq!(shop.yk.api_calls(), calls, "refused before asking the API");
    assert!(shop.subscription(&dave).await.is_none());
    assert_eq!(shop.ours(&yk_id).await.status, PaymentStatus::Pending);
}

async fn a_crash_before_recording_yookassas_id_is_recovered_through_metadata(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let (gina, token) = shop.customer(1008).await;
    let yk_id = shop.checkout(&token, "month").await;
    let ours = shop.ours(&yk_id).await;
    // As if the process died between YooKassa's answer and our write.
    sqlx::query("UPDATE payments SET provider_payment_id = NULL WHERE id = $1")
        .bind(ours.id.0)
        .execute(store::testing::pool(&db.store))
        .await
        .unwrap();
    shop.yk.succeed(&yk_id).unwrap();
    assert_eq!(shop.notify(&yk_id).await, 200);
    assert_eq!(days_left(&shop.subscription(&gina).await.unwrap()), 30);
    assert_eq!(
        shop.ours(&yk_id).await.id,
        ours.id,
        "YooKassa's id recorded on settling"
    );
}

async fn no_card_data_reaches_the_database(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let (_, token) = shop.customer(1014).await;
    let paid = shop.checkout(&token, "month").await;
    let declined = shop.checkout(&token, "quarter").await;
    shop.yk.succeed(&paid).unwrap();
    shop.yk.cancel(&declined).unwrap();
    // The emulator shows the card, as YooKassa does.
    assert_eq!(
        shop.yk.payment(&paid).unwrap()["payment_method"]["card"]["last4"],
        CARD_LAST4
    );
    for id in [&paid, &declined] {
        assert_eq!(shop.notify(id).await, 200);
    }
    shop.app()
        .refund_payment(shop.ours(&paid).await.id, OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert_eq!(shop.ours(&declined).await.status, PaymentStatus::Canceled);

    let everything = whole_database(db).await;
    assert!(
        everything.contains(&paid),
        "the dump does hold the payments"
    );
    for card in [
        CARD_FIRST6,
        CARD_LAST4,
        CARD_ISSUER_NAME,
        "bank_card",
        "MasterCard",
        "603668680243",
    ] {
        assert!(!everything.contains(card), "`{card}` is in the database");
    }
    if let Some(dir) = db.sqlite_dir() {
        // Not even in the SQLite files' free pages or WAL.
        for entry in std::fs::read_dir(dir).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains(CARD_ISSUER_NAME) && !text.contains("bank_card"));
        }
    }
}

#[tokio::test]
async fn sync_reports_unknown_ids_without_touching_anything() {
    let db = TestDb::sqlite().await;
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let now = OffsetDateTime::now_utc();
    for id in [
        "2c79a0e6-000f-5000-9000-1a5d0c0b2b1e",
        "../../v3/refunds",
        "",
    ] {
        assert_eq!(
            shop.cards.sync_provider_payment(id, now).await.unwrap(),
            SyncOutcome::Unknown
        );
    }
    assert!(shop.store().list_payments(None).await.unwrap().is_empty());
}

#[tokio::test]
async fn oversized_notifications_are_refused_unread() {
    let db = TestDb::sqlite().await;
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let calls = shop.yk.api_calls();
    let huge = json!({"type": "notification", "event": "payment.succeeded",
                      "object": {"id": "x".repeat(100_000)}});
    assert_eq!(
        shop.yk.deliver(&shop.webhook_url(), &huge).await.unwrap(),
        413
    );
    assert_eq!(shop.yk.api_calls(), calls);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_local_proxy_the_forwarded_sender_is_checked() {
    let db = TestDb::sqlite().await;
    let shop = Shop::open(db.store.clone(), SourcePolicy::new(true, "X-Forwarded-For")).await;
    let (kim, token) = shop.customer(1015).await;
    let yk_id = shop.checkout(&token, "month").await;
    shop.yk.succeed(&yk_id).unwrap();
    let note = shop.yk.notification(&yk_id).unwrap();
    let send = |forwarded: &'static str| {
        let req = reqwest::Client::new()
            .post(shop.webhook_url())
            .header("X-Forwarded-For", forwarded)
            .json(&note);
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(send("203.0.113.7").await, 403, "the proxy saw a stranger");
    assert!(shop.subscription(&kim).await.is_none());
    assert_eq!(
        send("203.0.113.7, 185.71.76.10").await,
        200,
        "the proxy saw YooKassa"
    );
    assert!(shop.subscription(&kim).await.is_some());
}

store::backend_tests!(
    paying_and_a_notification_credit_the_plan_once,
    concurrent_notifications_credit_once,
    forged_notifications_change_nothing,
    notifications_from_outside_yookassas_networks_are_refused,
    a_crash_before_recording_yookassas_id_is_recovered_through_metadata,
    no_card_data_reaches_the_database,
);
