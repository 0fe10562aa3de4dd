//! A person opens the card checkout link the bot gave and pays, against the YooKassa emulator
//! over HTTP on SQLite and PostgreSQL: opening the link pays nothing (only its button does,
//! once however often it is pressed), strangers and plans not for sale are refused, YooKassa is
//! asked for exactly what was sold (with a receipt), an outage leaves nothing pending, and the
//! return page shows the real status by its token only.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod card_shop;

use std::sync::Arc;

use card_shop::*;
use domain::PaymentStatus;
use store::testing::TestDb;
use time::OffsetDateTime;

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
    let creds = shop.store().credentials(op.user.id).await.unwrap().unwrap();
    assert_eq!(shop.open_checkout(&creds.sub_token, "month").await.0, 403);
}

async fn opening_the_link_creates_nothing_and_the_button_pays_once(db: &TestDb) {
    let shop = Arc::new(Shop::open(db.store.clone(), loopback_is_yookassa()).await);
    let (ann, token) = shop.customer(2001).await;

    // A link previewer, a prefetcher and the person all GET the link: a page, nothing more.
    for _ in 0..3 {
        let (status, page) = shop.view_checkout(&token, "month").await;
        assert_eq!(status, 200);
        assert!(page.contains("<form method=post"), "{page}");
        assert!(page.contains("199.00"), "{page}");
        assert!(
            page.contains(&format!("value=\"{}\"", token.as_str())),
            "{page}"
        );
        assert!(!page.contains("<script"), "{page}");
    }
    let r = reqwest::get(shop.checkout_link(&token, "month"))
        .await
        .unwrap();
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("form-action 'self'"),
        "{csp}"
    );
    assert_eq!(r.headers()["cache-control"], "no-store");
    let store = shop.store();
    assert!(store.list_payments(Some(ann.id)).await.unwrap().is_empty());
    assert!(shop.yk.payment_ids().is_empty());
    assert_eq!(shop.yk.api_calls(), 0, "YooKassa was not even asked");

    // The button, pressed twice.
    let (first_status, first) = shop.open_checkout(&token, "month").await;
    let (second_status, second) = shop.open_checkout(&token, "month").await;
    assert_eq!((first_status, second_status), (303, 303));
    assert_eq!(
        first, second,
        "the second press goes to the same payment page"
    );
    assert_eq!(store.list_payments(Some(ann.id)).await.unwrap().len(), 1);
    assert_eq!(shop.yk.payment_ids().len(), 1);

    // Many presses at once, for another plan: one more payment, not many.
    let mut racing = Vec::new();
    for _ in 0..6 {
        let (shop, token) = (shop.clone(), token.clone());
        racing.push(tokio::spawn(async move {
            shop.open_checkout(&token, "quarter").await
        }));
    }
    let mut locations = Vec::new();
    for r in racing {
        let (status, location) = r.await.unwrap();
        assert_eq!(status, 303);
        locations.push(location);
    }
    locations.dedup();
    assert_eq!(locations.len(), 1, "{locations:?}");
    assert_eq!(store.list_payments(Some(ann.id)).await.unwrap().len(), 2);
    assert_eq!(shop.yk.payment_ids().len(), 2);

    // Once paid, the next purchase is a new payment.
    let paid = first.rsplit('/').next().unwrap().to_owned();
    shop.yk.succeed(&paid).unwrap();
    assert_eq!(shop.notify(&paid).await, 200);
    let (_, again) = shop.open_checkout(&token, "month").await;
    assert_ne!(again, first);
    assert_eq!(shop.yk.payment_ids().len(), 3);
}

async fn an_uncreated_payment_is_canceled_and_an_outage_is_retried(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let (hana, token) = shop.customer(1009).await;

    // YooKassa down at checkout: the person gets an error page, nothing stays pending.
    shop.yk.set_failing(true);
    let (status, _) = shop.open_checkout(&token, "month").await;
    assert_eq!(status, 503);
    let payments = shop.store().list_payments(Some(hana.id)).await.unwrap();
    assert_eq!(payments.len(), 1);
    assert_eq!(payments[0].status, PaymentStatus::Canceled);
    shop.yk.set_failing(false);

    // YooKassa down while notifying: 503, so YooKassa retries; the retry credits.
    let yk_id = shop.checkout(&token, "month").await;
    shop.yk.succeed(&yk_id).unwrap();
    shop.yk.set_failing(true);
    assert_eq!(shop.notify(&yk_id).await, 503);
    assert!(shop.subscription(&hana).await.is_none());
    shop.yk.set_failing(false);
    assert_eq!(shop.notify(&yk_id).await, 200);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_receipt_goes_to_the_persons_own_email_when_they_gave_one() {
    let db = TestDb::sqlite().await;
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let (lena, token) = shop.customer(1016).await;
    let email: domain::Email = "lena@example.org".parse().unwrap();
    shop.store().set_email(lena.id, Some(&email)).await.unwrap();
    shop.checkout(&token, "month").await;
    let body = &shop.yk.recorded()[0].body;
    assert_eq!(body["receipt"]["customer"]["email"], "lena@example.org");
}

#[tokio::test]
async fn card_payments_stay_off_until_configured() {
    let db = TestDb::sqlite().await;
    let mut c = settings("http://127.0.0.1:9", "http://127.0.0.1:8080");
    c.yookassa.enabled = false;
    let app = app::App::new(db.store.clone(), c.clone());
    assert!(app.card_plans().is_empty());
    assert!(matches!(
        app::CardPayments::new(app),
        Err(billing::BillingError::NotConfigured)
    ));
    c.yookassa.enabled = true;
    c.yookassa.secret_key = domain::Secret::default();
    let app = app::App::new(db.store.clone(), c);
    assert!(app::CardPayments::new(app).is_err());
}

store::backend_tests!(
    checkout_refuses_strangers_and_plans_not_for_sale,
    opening_the_link_creates_nothing_and_the_button_pays_once,
    an_uncreated_payment_is_canceled_and_an_outage_is_retried,
    the_return_page_shows_the_real_status_by_token_only,
);
