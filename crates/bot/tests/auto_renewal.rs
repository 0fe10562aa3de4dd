//! Card auto-renewal in the bot, against the Telegram emulator over HTTP, on SQLite and
//! PostgreSQL: with it on, the reminder says a charge is coming and its one button switches it
//! off (the saved method's id deleted at once); My subscription says it is on and has the same
//! button.
#![allow(clippy::unwrap_used)]

mod harness;

use domain::{PlanId, TelegramId};
use harness::{count, Harness};
use store::testing::TestDb;
use time::{Duration, OffsetDateTime};

const METHOD: &str = "2f5c1b6e-000f-5000-9000-1a2b3c4d5e6f";

async fn the_reminder_announces_the_charge_and_one_button_stops_it(db: &TestDb) {
    let h = Harness::start_reminding(db).await;
    let eve = h.tg.user(3001, "Eve", Some("en"));
    h.tg.register(&eve);
    h.tg.send_text(&eve, "/start");
    h.next("sendMessage", eve.id).await;
    h.press(&eve, "agree:en").await;
    let user = db
        .store
        .user_by_telegram(TelegramId(eve.id))
        .await
        .unwrap()
        .unwrap();
    let now = OffsetDateTime::now_utc();
    db.store
        .enable_auto_renewal(user.id, &PlanId("month".into()), METHOD, now)
        .await
        .unwrap();
    // Ends in two days: the three-day reminder is due.
    db.grant(user.id, "month", 30, now - Duration::days(28))
        .await;
    let reminder = h.next("sendMessage", eve.id).await;
    let text = reminder.params.str("text").unwrap();
    assert!(text.contains("Auto-renewal is on"), "{text}");
    assert!(h.screen(eve.id).buttons().contains(&"renew-off".to_owned()));

    h.press(&eve, "renew-off").await;
    assert!(db.store.auto_renewal(user.id).await.unwrap().is_none());
    assert_eq!(count(db, "auto_renewals").await, 0);
    let screen = h.screen(eve.id);
    assert!(
        screen.text().contains("Auto-renewal is off"),
        "{}",
        screen.text()
    );
    assert!(!screen.buttons().contains(&"renew-off".to_owned()));
}

async fn my_subscription_shows_auto_renewal_in_russian_too(db: &TestDb) {
    let h = Harness::start(db).await;
    let fedor = h.tg.user(3002, "Фёдор", Some("ru"));
    h.tg.register(&fedor);
    h.tg.send_text(&fedor, "/start");
    h.next("sendMessage", fedor.id).await;
    h.press(&fedor, "agree:ru").await;
    let user = db
        .store
        .user_by_telegram(TelegramId(fedor.id))
        .await
        .unwrap()
        .unwrap();
    let now = OffsetDateTime::now_utc();
    db.grant(user.id, "month", 30, now).await;
    db.store
        .enable_auto_renewal(user.id, &PlanId("month".into()), METHOD, now)
        .await
        .unwrap();
    h.press(&fedor, "sub").await;
    let screen = h.screen(fedor.id);
    assert!(
        screen.text().contains("Автопродление включено"),
        "{}",
        screen.text()
    );
    assert!(screen.buttons().contains(&"renew-off".to_owned()));
}

store::backend_tests!(
    the_reminder_announces_the_charge_and_one_button_stops_it,
    my_subscription_shows_auto_renewal_in_russian_too,
);
