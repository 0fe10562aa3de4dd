//! Refunds, against the YooKassa emulator over HTTP on SQLite and PostgreSQL: the operator's
//! refund returns the money once, a payment that succeeds after its payer erased their account
//! goes back exactly once (and the admins are told), refunds made in YooKassa's dashboard reach
//! our records, and only what is left is ever given back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod card_shop;

use std::sync::Arc;

use card_shop::*;
use domain::PaymentStatus;
use serde_json::json;
use store::testing::TestDb;
use time::OffsetDateTime;

async fn a_refund_returns_the_money_and_marks_the_payment(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let (jay, yk_id) = shop.paid_month(1013).await;
    let ours = shop.ours(&yk_id).await;

    let now = OffsetDateTime::now_utc();
    let outcome = shop.app().refund_payment(ours.id, now).await.unwrap();
    assert!(
        outcome.provider == domain::Provider::YooKassa
            && outcome.state == billing::provider::RefundState::Succeeded
            && outcome.refund_id.is_some()
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

    let again = shop.app().refund_payment(ours.id, now).await;
    assert!(matches!(
        again,
        Err(app::PaymentError::NotRefundable(PaymentStatus::Refunded))
    ));
    assert_eq!(shop.yk.refunds().len(), 1);
    // A late notification about the refunded payment changes nothing.
    assert_eq!(shop.notify(&yk_id).await, 200);
    assert_eq!(shop.ours(&yk_id).await.status, PaymentStatus::Refunded);
}

async fn a_payment_that_succeeds_after_its_payer_was_erased_is_refunded_once(db: &TestDb) {
    let shop = Arc::new(Shop::open(db.store.clone(), loopback_is_yookassa()).await);
    let mut told = shop.cards.subscribe_erased_refunds();
    let mut paid = shop.cards.subscribe();
    let (bea, token) = shop.customer(2002).await;
    let yk_id = shop.checkout(&token, "month").await;
    let ours = shop.ours(&yk_id).await;
    shop.app().erase_person(bea.id).await.unwrap();

    // The person had the payment page open and pays anyway.
    shop.yk.succeed(&yk_id).unwrap();
    // YooKassa delivers twice while the reconciler runs.
    let later = OffsetDateTime::now_utc() + time::Duration::minutes(2);
    let hook = shop.webhook_url();
    let (a, b, reconciled) = tokio::join!(
        shop.yk.notify(&yk_id, &hook),
        shop.yk.notify(&yk_id, &hook),
        shop.cards.reconcile_once(later),
    );
    assert_eq!((a.unwrap(), b.unwrap()), (200, 200));
    reconciled.unwrap();
    // And again, later, for good measure.
    assert_eq!(shop.notify(&yk_id).await, 200);
    shop.cards.reconcile_once(later).await.unwrap();

    let refunds = shop.yk.refunds();
    assert_eq!(refunds.len(), 1, "{refunds:?}");
    assert_eq!(refunds[0]["payment_id"], yk_id.as_str());
    assert_eq!(
        refunds[0]["amount"],
        json!({"value": "199.00", "currency": "RUB"})
    );
    let now = shop.ours(&yk_id).await;
    assert_eq!(now.status, PaymentStatus::Refunded);
    assert_eq!(now.refunded_minor, 19_900);
    assert_eq!(now.user_id, None);

    let event = told.try_recv().expect("the admins are told");
    assert_eq!(event.payment, ours.id);
    assert_eq!(event.amount, domain::Money::rub_kopecks(19_900));
    assert!(told.try_recv().is_err(), "told once");
    assert!(paid.try_recv().is_err(), "nobody was credited");

    // YooKassa's own notice of that refund changes nothing.
    let refund_id = refunds[0]["id"].as_str().unwrap();
    assert_eq!(shop.notify_refund(refund_id).await, 200);
    assert_eq!(shop.ours(&yk_id).await, now);
    assert!(told.try_recv().is_err());
    assert_eq!(shop.yk.refunds().len(), 1);
}

async fn refunds_made_in_the_dashboard_reach_the_payment(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let (cid, yk_id) = shop.paid_month(2003).await;
    let credited = shop.subscription(&cid).await.unwrap();

    // Part of it, then notified twice.
    let part = shop.yk.refund_in_dashboard(&yk_id, "50.00").unwrap();
    for _ in 0..2 {
        assert_eq!(shop.notify_refund(&part).await, 200);
    }
    assert_eq!(
        shop.refund_state(&yk_id).await,
        (PaymentStatus::Succeeded, 5_000)
    );

    // The rest: refunded. The earlier notice arriving late changes nothing.
    let rest = shop.yk.refund_in_dashboard(&yk_id, "149.00").unwrap();
    assert_eq!(shop.notify_refund(&rest).await, 200);
    assert_eq!(shop.notify_refund(&part).await, 200);
    assert_eq!(
        shop.refund_state(&yk_id).await,
        (PaymentStatus::Refunded, 19_900)
    );
    // The days stay: taking access away is the operator's call.
    assert_eq!(shop.subscription(&cid).await, Some(credited));
    assert_eq!(days_left(&shop.subscription(&cid).await.unwrap()), 30);
    assert_eq!(shop.yk.refunds().len(), 2, "we refunded nothing ourselves");
}

async fn a_refund_that_overtakes_its_payment_notice_settles_both(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let (dan, token) = shop.customer(2004).await;
    let yk_id = shop.checkout(&token, "month").await;
    shop.yk.succeed(&yk_id).unwrap();
    let refund = shop.yk.refund_in_dashboard(&yk_id, "199.00").unwrap();
    assert_eq!(shop.notify_refund(&refund).await, 200);
    assert_eq!(
        shop.refund_state(&yk_id).await,
        (PaymentStatus::Refunded, 19_900)
    );
    assert!(
        shop.subscription(&dan).await.is_some(),
        "credited, then refunded"
    );
    assert_eq!(shop.notify(&yk_id).await, 200);
    assert_eq!(shop.ours(&yk_id).await.status, PaymentStatus::Refunded);
}

async fn refund_notices_about_payments_not_ours_are_acknowledged_and_ignored(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    // Another integration on the same shop makes and refunds a payment of its own.
    let foreign: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/v3/payments", shop.yk.url()))
        .basic_auth(SHOP_ID, Some(SECRET_KEY))
        .header("Idempotence-Key", "someone-else-1")
        .json(&json!({
            "amount": {"value": "10.00", "currency": "RUB"},
            "confirmation": {"type": "redirect", "return_url": "https://elsewhere.example/"},
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let foreign_id = foreign["id"].as_str().unwrap();
    shop.yk.succeed(foreign_id).unwrap();
    let refund = shop.yk.refund_in_dashboard(foreign_id, "10.00").unwrap();
    assert_eq!(shop.notify_refund(&refund).await, 200);

    // A refund YooKassa never made: the body is not believed, nothing changes.
    let (_, yk_id) = shop.paid_month(2005).await;
    let forged = json!({
        "type": "notification", "event": "refund.succeeded",
        "object": {"id": "2c79a0e6-000f-5000-9000-1a5d0c0b2b1e", "status": "succeeded",
                   "payment_id": yk_id, "amount": {"value": "199.00", "currency": "RUB"}},
    });
    assert_eq!(
        shop.yk.deliver(&shop.webhook_url(), &forged).await.unwrap(),
        200
    );
    assert_eq!(shop.ours(&yk_id).await.status, PaymentStatus::Succeeded);
    assert_eq!(shop.ours(&yk_id).await.refunded_minor, 0);
    assert_eq!(shop.store().list_payments(None).await.unwrap().len(), 1);
}

async fn only_what_is_left_is_given_back(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    // The operator refunds the rest of a payment partly refunded in the dashboard.
    let (_, yk_id) = shop.paid_month(2006).await;
    let part = shop.yk.refund_in_dashboard(&yk_id, "50.00").unwrap();
    assert_eq!(shop.notify_refund(&part).await, 200);
    let id = shop.ours(&yk_id).await.id;
    shop.app()
        .refund_payment(id, OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert_eq!(shop.yk.refunds()[1]["amount"]["value"], "149.00");
    assert_eq!(
        shop.refund_state(&yk_id).await,
        (PaymentStatus::Refunded, 19_900)
    );

    // A payment after erasure, partly refunded by hand before we heard of it: the rest.
    let (gone, token) = shop.customer(2007).await;
    let late = shop.checkout(&token, "month").await;
    shop.app().erase_person(gone.id).await.unwrap();
    shop.yk.succeed(&late).unwrap();
    shop.yk.refund_in_dashboard(&late, "20.00").unwrap();
    assert_eq!(shop.notify(&late).await, 200);
    assert_eq!(shop.notify(&late).await, 200);
    let refunds = shop.yk.refunds();
    assert_eq!(refunds.len(), 4, "{refunds:?}");
    assert_eq!(refunds[3]["payment_id"], late.as_str());
    assert_eq!(refunds[3]["amount"]["value"], "179.00");
    assert_eq!(
        shop.refund_state(&late).await,
        (PaymentStatus::Refunded, 19_900)
    );
}

async fn a_refund_that_fails_is_retried_until_it_is_made(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let mut told = shop.cards.subscribe_erased_refunds();
    let (eve, token) = shop.customer(2008).await;
    let yk_id = shop.checkout(&token, "month").await;
    shop.app().erase_person(eve.id).await.unwrap();
    shop.yk.succeed(&yk_id).unwrap();

    // YooKassa's refunds are down: the notification asks to be retried, nothing is marked.
    shop.yk.set_failing_refunds(true);
    assert_eq!(shop.notify(&yk_id).await, 503);
    assert_eq!(shop.ours(&yk_id).await.status, PaymentStatus::Pending);
    assert!(shop.yk.refunds().is_empty());
    assert!(told.try_recv().is_err());

    // Back up: the reconciler's next round gives the money back, once.
    shop.yk.set_failing_refunds(false);
    let later = OffsetDateTime::now_utc() + time::Duration::minutes(2);
    let report = shop.cards.reconcile_once(later).await.unwrap();
    assert_eq!((report.checked, report.refunded), (1, 1));
    assert_eq!(shop.cards.reconcile_once(later).await.unwrap().checked, 0);
    assert_eq!(shop.notify(&yk_id).await, 200);
    assert_eq!(shop.yk.refunds().len(), 1);
    assert_eq!(shop.ours(&yk_id).await.status, PaymentStatus::Refunded);
    assert!(told.try_recv().is_ok());
    assert!(told.try_recv().is_err());
}

store::backend_tests!(
    a_refund_returns_the_money_and_marks_the_payment,
    a_payment_that_succeeds_after_its_payer_was_erased_is_refunded_once,
    refunds_made_in_the_dashboard_reach_the_payment,
    a_refund_that_overtakes_its_payment_notice_settles_both,
    refund_notices_about_payments_not_ours_are_acknowledged_and_ignored,
    only_what_is_left_is_given_back,
    a_refund_that_fails_is_retried_until_it_is_made,
);
