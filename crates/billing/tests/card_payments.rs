//! A person pays by card, told as stories against the YooKassa emulator over HTTP, on SQLite
//! and PostgreSQL: paid once however the notifications arrive, forged and foreign
//! notifications change nothing, lost notifications and crashes are caught up by the
//! reconciler, refunds work, and no card data ever reaches the database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use billing::{SourcePolicy, SyncOutcome};
use common::*;
use domain::PaymentStatus;
use serde_json::json;
use store::testing::TestDb;
use time::OffsetDateTime;
use yookassa_emulator::{CARD_FIRST6, CARD_ISSUER_NAME, CARD_LAST4};

/// Days of access the subscription holds in all (each test starts with none).
fn days_left(sub: &domain::Subscription) -> i64 {
    (sub.ends_at - sub.activated_at).whole_days()
}

async fn paying_and_a_notification_credit_the_plan_once(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let mut paid = shop.billing.subscribe();
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
        .app()
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
    assert_eq!(
        shop.yk.notify(&yk_id, &shop.webhook_url()).await.unwrap(),
        200
    );
    let sub = shop.subscription(&alice).await.expect("credited");
    assert_eq!(days_left(&sub), 30);
    assert_eq!(shop.ours(&yk_id).await.status, PaymentStatus::Succeeded);
    let event = paid.try_recv().unwrap();
    assert_eq!((event.user, event.payment), (alice.id, ours.id));

    // YooKassa repeats itself: nothing more happens.
    assert_eq!(
        shop.yk.notify(&yk_id, &shop.webhook_url()).await.unwrap(),
        200
    );
    assert_eq!(shop.subscription(&alice).await, Some(sub));
    assert!(paid.try_recv().is_err(), "one credit, one event");
}

async fn concurrent_notifications_credit_once(db: &TestDb) {
    let shop = Arc::new(Shop::open(db.store.clone(), loopback_is_yookassa()).await);
    let mut paid = shop.billing.subscribe();
    let (bob, token) = shop.customer(1002).await;
    let yk_id = shop.checkout(&token, "quarter").await;
    shop.yk.succeed(&yk_id).unwrap();

    let mut racing = Vec::new();
    for _ in 0..12 {
        let shop = shop.clone();
        let id = yk_id.clone();
        racing.push(tokio::spawn(async move {
            shop.yk.notify(&id, &shop.webhook_url()).await.unwrap()
        }));
    }
    for r in racing {
        assert_eq!(r.await.unwrap(), 200);
    }
    // The reconciler joins in too.
    let later = OffsetDateTime::now_utc() + time::Duration::minutes(5);
    shop.billing.reconcile_once(later).await.unwrap();

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
    assert_eq!(
        shop.yk.notify(&yk_id, &shop.webhook_url()).await.unwrap(),
        403
    );
    assert_eq!(shop.yk.api_calls(), calls, "refused before asking the API");
    assert!(shop.subscription(&dave).await.is_none());
    assert_eq!(shop.ours(&yk_id).await.status, PaymentStatus::Pending);
}

async fn a_lost_notification_is_caught_up_by_the_reconciler(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let (erin, token) = shop.customer(1005).await;
    let yk_id = shop.checkout(&token, "month").await;
    let (_, other_token) = shop.customer(1006).await;
    let unpaid = shop.checkout(&other_token, "month").await;
    shop.yk.succeed(&yk_id).unwrap();

    // Too fresh: left to its notification.
    let now = OffsetDateTime::now_utc();
    assert_eq!(shop.billing.reconcile_once(now).await.unwrap().checked, 0);

    let later = now + time::Duration::minutes(2);
    let report = shop.billing.reconcile_once(later).await.unwrap();
    assert_eq!(
        (report.checked, report.credited, report.still_pending),
        (2, 1, 1)
    );
    assert_eq!(days_left(&shop.subscription(&erin).await.unwrap()), 30);
    assert_eq!(shop.ours(&unpaid).await.status, PaymentStatus::Pending);

    shop.yk.cancel(&unpaid).unwrap();
    let report = shop.billing.reconcile_once(later).await.unwrap();
    assert_eq!((report.checked, report.canceled), (1, 1));
    assert_eq!(shop.ours(&unpaid).await.status, PaymentStatus::Canceled);
    assert_eq!(shop.billing.reconcile_once(later).await.unwrap().checked, 0);
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
    let report = restarted.billing.reconcile_once(later).await.unwrap();
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
    assert_eq!(
        shop.yk.notify(&yk_id, &shop.webhook_url()).await.unwrap(),
        200
    );
    assert_eq!(days_left(&shop.subscription(&gina).await.unwrap()), 30);
    assert_eq!(
        shop.ours(&yk_id).await.id,
        ours.id,
        "YooKassa's id recorded on settling"
    );
}

async fn an_uncreated_payment_is_canceled_and_an_outage_is_retried(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let (hana, token) = shop.customer(1009).await;

    // YooKassa down at checkout: the person gets an error page, nothing stays pending.
    shop.yk.set_failing(true);
    let (status, _) = shop.open_checkout(&token, "month").await;
    assert_eq!(status, 503);
    let payments = shop
        .app()
        .store()
        .list_payments(Some(hana.id))
        .await
        .unwrap();
    assert_eq!(payments.len(), 1);
    assert_eq!(payments[0].status, PaymentStatus::Canceled);
    shop.yk.set_failing(false);

    // YooKassa down while notifying: 503, so YooKassa retries; the retry credits.
    let yk_id = shop.checkout(&token, "month").await;
    shop.yk.succeed(&yk_id).unwrap();
    shop.yk.set_failing(true);
    assert_eq!(
        shop.yk.notify(&yk_id, &shop.webhook_url()).await.unwrap(),
        503
    );
    assert!(shop.subscription(&hana).await.is_none());
    shop.yk.set_failing(false);
    assert_eq!(
        shop.yk.notify(&yk_id, &shop.webhook_url()).await.unwrap(),
        200
    );
    assert!(shop.subscription(&hana).await.is_some());
}

async fn the_return_page_shows_the_real_status_by_token_only(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let (ivan, token) = shop.customer(1010).await;
    let yk_id = shop.checkout(&token, "month").await;
    let ours = shop.ours(&yk_id).await;
    let return_url = shop.yk.recorded()[0].body["confirmation"]["return_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = |url: String| async move {
        let r = reqwest::get(url).await.unwrap();
        let csp = r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        (r.status().as_u16(), r.text().await.unwrap(), csp)
    };
    let (status, body, csp) = page(return_url.clone()).await;
    assert_eq!(status, 200);
    assert!(body.contains("Waiting for payment"), "{body}");
    assert!(csp.contains("default-src 'none'"));

    // Paid, notification not here yet: the page asks YooKassa and credits.
    shop.yk.succeed(&yk_id).unwrap();
    let (_, body, _) = page(return_url.clone()).await;
    assert!(body.contains("Paid"), "{body}");
    assert!(shop.subscription(&ivan).await.is_some());

    // The old links by number reveal nothing, whichever number: the same neutral page.
    let (old_status, old_real, _) =
        page(shop.url(&format!("/pay/return?payment={}", ours.id))).await;
    let (_, old_made_up, _) = page(shop.url("/pay/return?payment=999999")).await;
    assert_eq!(old_status, 200);
    assert_eq!(old_real, old_made_up);
    assert!(
        !old_real.contains("Paid") && !old_real.contains("Waiting"),
        "{old_real}"
    );
    assert_eq!(page(shop.url("/pay/return")).await.1, old_real);

    let unknown = domain::ReturnToken::generate();
    let (status, _, _) = page(shop.url(&format!("/pay/return?t={}", unknown.as_str()))).await;
    assert_eq!(status, 404);
    assert_eq!(page(shop.url("/pay/return?t=nonsense")).await.0, 404);
}

async fn checkout_refuses_strangers_and_plans_not_for_sale(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let (_, token) = shop.customer(1011).await;
    let stranger = domain::SubscriptionToken::generate();
    assert_eq!(shop.open_checkout(&stranger, "month").await.0, 403);
    assert_eq!(shop.open_checkout(&token, "lifetime").await.0, 404);
    let r = reqwest::get(shop.url("/pay/checkout?t=short&plan=month"))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(shop.view_checkout(&stranger, "month").await.0, 403);
    assert_eq!(shop.view_checkout(&token, "lifetime").await.0, 404);
    assert!(
        shop.yk.payment_ids().is_empty(),
        "nothing was created at YooKassa"
    );

    // The operator's own accounts have no consent yet: the bot asks first.
    let op = shop
        .app()
        .add_user(domain::TelegramId(1012), None, OffsetDateTime::now_utc())
        .await
        .unwrap();
    let creds = shop
        .app()
        .store()
        .credentials(op.user.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(shop.open_checkout(&creds.sub_token, "month").await.0, 403);
}

async fn a_refund_returns_the_money_and_marks_the_payment(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let (jay, token) = shop.customer(1013).await;
    let yk_id = shop.checkout(&token, "month").await;
    shop.yk.succeed(&yk_id).unwrap();
    assert_eq!(
        shop.yk.notify(&yk_id, &shop.webhook_url()).await.unwrap(),
        200
    );
    let ours = shop.ours(&yk_id).await;

    let now = OffsetDateTime::now_utc();
    let outcome = billing::refund(shop.app(), ours.id, now).await.unwrap();
    assert!(
        matches!(outcome, billing::RefundOutcome::YooKassa { ref status, .. } if status == "succeeded")
    );
    let refunds = shop.yk.refunds();
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0]["payment_id"], yk_id);
    assert_eq!(refunds[0]["amount"]["value"], "199.00");
    assert_eq!(shop.ours(&yk_id).await.status, PaymentStatus::Refunded);
    assert!(
        shop.subscription(&jay).await.is_some(),
        "days are the operator's call"
    );

    let again = billing::refund(shop.app(), ours.id, now).await;
    assert!(matches!(
        again,
        Err(billing::BillingError::NotRefundable(
            PaymentStatus::Refunded
        ))
    ));
    assert_eq!(shop.yk.refunds().len(), 1);
    // A late notification about the refunded payment changes nothing.
    assert_eq!(
        shop.yk.notify(&yk_id, &shop.webhook_url()).await.unwrap(),
        200
    );
    assert_eq!(shop.ours(&yk_id).await.status, PaymentStatus::Refunded);
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
        assert_eq!(shop.yk.notify(id, &shop.webhook_url()).await.unwrap(), 200);
    }
    billing::refund(
        shop.app(),
        shop.ours(&paid).await.id,
        OffsetDateTime::now_utc(),
    )
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

async fn the_reconciler_task_stops_on_shutdown(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let shutdown = tokio_util::sync::CancellationToken::new();
    let task = tokio::spawn(billing::run_reconciler(
        shop.billing.clone(),
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
            shop.billing.sync_provider_payment(id, now).await.unwrap(),
            SyncOutcome::Unknown
        );
    }
    assert!(shop
        .app()
        .store()
        .list_payments(None)
        .await
        .unwrap()
        .is_empty());
}

store::backend_tests!(
    paying_and_a_notification_credit_the_plan_once,
    concurrent_notifications_credit_once,
    forged_notifications_change_nothing,
    notifications_from_outside_yookassas_networks_are_refused,
    a_lost_notification_is_caught_up_by_the_reconciler,
    a_crash_after_yookassa_took_the_money_is_credited_after_restart,
    a_crash_before_recording_yookassas_id_is_recovered_through_metadata,
    an_uncreated_payment_is_canceled_and_an_outage_is_retried,
    the_return_page_shows_the_real_status_by_token_only,
    checkout_refuses_strangers_and_plans_not_for_sale,
    a_refund_returns_the_money_and_marks_the_payment,
    no_card_data_reaches_the_database,
    the_reconciler_task_stops_on_shutdown,
);

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_receipt_goes_to_the_persons_own_email_when_they_gave_one() {
    let db = TestDb::sqlite().await;
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let (lena, token) = shop.customer(1016).await;
    let email: domain::Email = "lena@example.org".parse().unwrap();
    shop.app()
        .store()
        .set_email(lena.id, Some(&email))
        .await
        .unwrap();
    shop.checkout(&token, "month").await;
    let body = &shop.yk.recorded()[0].body;
    assert_eq!(body["receipt"]["customer"]["email"], "lena@example.org");
}

#[tokio::test]
async fn card_payments_stay_off_until_configured() {
    let db = TestDb::sqlite().await;
    let mut c = config("http://127.0.0.1:9", "http://127.0.0.1:8080");
    c.yookassa.enabled = false;
    let app = app::App::new(db.store.clone(), Arc::new(c.clone()));
    assert!(app.card_plans().is_empty());
    assert!(matches!(
        billing::Billing::new(app, SourcePolicy::default()),
        Err(billing::BillingError::NotConfigured)
    ));
    c.yookassa.enabled = true;
    c.yookassa.secret_key = config::Secret::default();
    let app = app::App::new(db.store.clone(), Arc::new(c));
    assert!(billing::Billing::new(app, SourcePolicy::default()).is_err());
}
