//! Telegram Stars subscriptions against the Telegram emulator over HTTP, on SQLite and
//! PostgreSQL: a 30-day Stars plan is offered as a subscription invoice link
//! (`createInvoiceLink` with `subscription_period` 2592000); each charge Telegram makes is
//! credited once by its charge id; our button cancels it with `editUserStarSubscription`, and
//! a cancellation inside Telegram simply stops the days; erasure forgets it.
#![allow(clippy::unwrap_used)]

mod harness;

use harness::{count, Harness};
use store::testing::TestDb;
use tg_emulator::TgUser;
use time::{Duration, OffsetDateTime};

const DORA: i64 = 1_000_444_555;

/// A person who agreed, pressed the monthly subscription and paid its first charge: them and
/// the invoice payload.
async fn subscribed(h: &Harness, db: &TestDb) -> (TgUser, String) {
    let dora = h.tg.user(DORA, "Dora", Some("en"));
    h.tg.register(&dora);
    h.tg.send_text(&dora, "/start");
    h.next("sendMessage", DORA).await;
    h.press(&dora, "agree:en").await;
    h.press(&dora, "buy").await;
    let buttons = h.screen(DORA).buttons();
    assert!(buttons.contains(&"ssub:month".to_owned()), "{buttons:?}");
    assert!(
        !buttons.contains(&"ssub:quarter".to_owned()),
        "only 30-day plans are subscriptions"
    );
    h.press(&dora, "ssub:month").await;
    let link = h.tg.wait_for(|c| c.method == "createInvoiceLink").await;
    assert_eq!(link.params.i64("subscription_period"), Some(2_592_000));
    assert_eq!(link.params.str("currency").as_deref(), Some("XTR"));
    let payload = link.params.str("payload").unwrap();
    h.next("sendMessage", DORA).await;
    assert!(h.screen(DORA).text().contains("Stars subscription"));

    h.tg.pre_checkout(&dora, "XTR", 100, &payload);
    let accepted =
        h.tg.wait_for(|c| c.method == "answerPreCheckoutQuery")
            .await;
    assert_eq!(accepted.params.bool("ok"), Some(true));
    let until = OffsetDateTime::now_utc() + Duration::days(30);
    let first =
        h.tg.subscription_payment(
            &dora,
            100,
            &payload,
            "stxSUB-1",
            until.unix_timestamp(),
            true,
        )
        .unwrap();
    h.tg.inject(first);
    h.next("sendMessage", DORA).await;
    assert!(h.screen(DORA).text().contains("Payment received"));
    let user = db.store.user_by_telegram(domain::TelegramId(DORA)).await;
    let user = user.unwrap().unwrap();
    let sub = db.store.subscription(user.id).await.unwrap().unwrap();
    assert_eq!(sub.ends_at - sub.activated_at, Duration::days(30));
    (dora, payload)
}

async fn each_renewal_is_credited_once_and_our_button_cancels(db: &TestDb) {
    let h = Harness::start(db).await;
    let (dora, payload) = subscribed(&h, db).await;
    let user = db
        .store
        .user_by_telegram(domain::TelegramId(DORA))
        .await
        .unwrap()
        .unwrap();

    // Telegram charges the next month by itself; the update arrives twice.
    let until = OffsetDateTime::now_utc() + Duration::days(60);
    let renewal =
        h.tg.subscription_payment(
            &dora,
            100,
            &payload,
            "stxSUB-2",
            until.unix_timestamp(),
            false,
        )
        .unwrap();
    h.tg.inject(renewal.clone());
    h.next("sendMessage", DORA).await;
    h.tg.inject(renewal);
    h.settle().await;
    let sub = db.store.subscription(user.id).await.unwrap().unwrap();
    assert_eq!(sub.ends_at - sub.activated_at, Duration::days(60));
    assert_eq!(
        db.store.list_payments(Some(user.id)).await.unwrap().len(),
        2
    );

    // My subscription offers the cancel button; it cancels at Telegram with the latest charge.
    h.press(&dora, "sub").await;
    assert!(h.screen(DORA).buttons().contains(&"ssub-".to_owned()));
    h.press(&dora, "ssub-").await;
    let edit =
        h.tg.wait_for(|c| c.method == "editUserStarSubscription")
            .await;
    assert_eq!(edit.params.i64("user_id"), Some(DORA));
    assert_eq!(
        edit.params.str("telegram_payment_charge_id").as_deref(),
        Some("stxSUB-2")
    );
    assert_eq!(edit.params.bool("is_canceled"), Some(true));
    assert!(h.tg.subscription_canceled(&dora, &payload));
    assert!(h.screen(DORA).text().contains("canceled"));
    assert!(!h.screen(DORA).buttons().contains(&"ssub-".to_owned()));
    assert_eq!(count(db, "stars_subscriptions").await, 0);
    // Telegram charges a canceled subscription no more.
    assert!(h
        .tg
        .subscription_payment(&dora, 100, &payload, "stxSUB-3", 0, false)
        .is_none());
}

async fn a_cancellation_inside_telegram_just_stops_the_days(db: &TestDb) {
    let h = Harness::start(db).await;
    let (dora, payload) = subscribed(&h, db).await;
    let user = db
        .store
        .user_by_telegram(domain::TelegramId(DORA))
        .await
        .unwrap()
        .unwrap();
    let before = db.store.subscription(user.id).await.unwrap().unwrap();
    let messages = h.tg.chat(DORA).len();
    h.tg.cancel_subscription_in_telegram(&dora, &payload);
    assert!(h
        .tg
        .subscription_payment(&dora, 100, &payload, "stxSUB-2", 0, false)
        .is_none());
    h.settle().await;
    assert_eq!(
        db.store.subscription(user.id).await.unwrap().unwrap(),
        before
    );
    assert_eq!(h.tg.chat(DORA).len(), messages, "the bot says nothing");
}

async fn erasure_forgets_the_stars_subscription(db: &TestDb) {
    let h = Harness::start(db).await;
    subscribed(&h, db).await;
    assert_eq!(count(db, "stars_subscriptions").await, 1);
    let user = db
        .store
        .user_by_telegram(domain::TelegramId(DORA))
        .await
        .unwrap()
        .unwrap();
    let export = db.store.export_user(user.id).await.unwrap().unwrap();
    let json = serde_json::to_value(&export).unwrap();
    assert_eq!(json["stars_subscription"]["charge_id"], "stxSUB-1");
    db.store.erase_user(user.id).await.unwrap();
    assert_eq!(count(db, "stars_subscriptions").await, 0);
}

store::backend_tests!(
    each_renewal_is_credited_once_and_our_button_cancels,
    a_cancellation_inside_telegram_just_stops_the_days,
    erasure_forgets_the_stars_subscription,
);
