//! What must survive real life: a restart in the middle of a conversation, updates delivered
//! twice, Telegram's flood control (429), a person who blocked the bot, and reminders that must
//! go out once — on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used)]

mod harness;

use std::time::{Duration, Instant};

use domain::TelegramId;
use harness::{count, Harness, ADMIN, SUPPORT_CHAT};
use store::testing::TestDb;
use tg_emulator::{Failure, TgUser};

/// Takes a person through /start and "I agree"; returns them.
async fn signed_up(h: &Harness, id: i64) -> TgUser {
    let person = h.tg.user(id, "Bob", Some("en"));
    h.tg.send_text(&person, "/start");
    h.next("sendMessage", id).await;
    h.press(&person, "agree:en").await;
    h.next("editMessageText", id).await;
    person
}

async fn a_restart_in_the_middle_of_a_conversation_loses_nothing(db: &TestDb) {
    let mut h = Harness::start(db).await;
    let bob = signed_up(&h, 2001).await;
    h.press(&bob, "support").await;
    h.next("editMessageText", bob.id).await;

    h.restart().await;
    h.tg.send_text(&bob, "Is the service down?");
    let relayed = h.next("sendMessage", SUPPORT_CHAT).await;
    assert!(relayed
        .params
        .str("text")
        .unwrap()
        .contains("Is the service down?"));
    h.next("sendMessage", bob.id).await;
    assert!(h.screen(bob.id).text().contains("Ticket #"));
}

async fn an_update_delivered_twice_acts_once(db: &TestDb) {
    let mut h = Harness::start(db).await;
    let bob = signed_up(&h, 2002).await;
    h.settle().await;
    h.stop().await;

    // The same update twice in one batch, as after a crash before the offset was confirmed.
    let update = h.tg.text_update(&bob, "/menu");
    h.tg.inject_with_id(900_001, update.clone());
    h.tg.inject_with_id(900_001, update);
    let before = h.tg.count("sendMessage");
    h.restart().await;
    h.settle().await;
    assert_eq!(h.tg.count("sendMessage"), before + 1, "one menu, not two");

    // And once more after a restart: still nothing new.
    let update = h.tg.text_update(&bob, "/menu");
    h.tg.inject_with_id(900_001, update);
    h.settle().await;
    assert_eq!(h.tg.count("sendMessage"), before + 1);
}

async fn flood_control_is_waited_out(db: &TestDb) {
    let h = Harness::start(db).await;
    let carol = h.tg.user(2003, "Carol", Some("ru"));
    h.tg.fail_next(Some("sendMessage"), 1, Failure::RetryAfter(1));
    let started = Instant::now();
    h.tg.send_text(&carol, "/start");
    let first = h.next("sendMessage", carol.id).await;
    assert!(first.failed, "the first try met a 429");
    let second = h.next("sendMessage", carol.id).await;
    assert!(!second.failed);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "retry_after was honoured"
    );
    assert!(h.screen(carol.id).text().contains("политике"));
}

async fn a_person_who_blocked_the_bot_is_not_messaged_again(db: &TestDb) {
    let h = Harness::start(db).await;
    let dave = signed_up(&h, 2004).await;
    let admin = h.tg.user(ADMIN, "Admin", Some("en"));

    h.tg.fail_next_in_chat(dave.id, Some("sendMessage"), 1, Failure::Blocked);
    h.tg.send_text(&admin, "/broadcast all Maintenance tonight");
    h.tg.wait_for(|c| {
        c.params.i64("chat_id") == Some(ADMIN)
            && c.params
                .str("text")
                .is_some_and(|t| t.contains("0 delivered, 1 blocked the bot, 0 other failures"))
    })
    .await;
    let user = db
        .store
        .user_by_telegram(TelegramId(dave.id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(db.store.bot_unreachable(user.id).await.unwrap(), Some(true));

    h.tg.send_text(&admin, "/broadcast all Second notice");
    h.tg.wait_for(|c| {
        c.params.i64("chat_id") == Some(ADMIN)
            && c.params
                .str("text")
                .is_some_and(|t| t.contains("0 delivered, 0 blocked the bot, 0 other failures"))
    })
    .await;

    // Writing again shows they are back.
    h.tg.send_text(&dave, "/menu");
    h.next("sendMessage", dave.id).await;
    assert_eq!(
        db.store.bot_unreachable(user.id).await.unwrap(),
        Some(false)
    );
}

async fn admins_see_counts_and_grant_days(db: &TestDb) {
    let h = Harness::start(db).await;
    let erin = signed_up(&h, 2005).await;
    let admin = h.tg.user(ADMIN, "Admin", Some("en"));
    h.tg.send_text(&admin, &format!("/grant {} 10", erin.id));
    h.next("sendMessage", ADMIN).await;
    assert!(h.screen(ADMIN).text().contains("active until"));
    h.tg.send_text(&admin, "/stats");
    h.next("sendMessage", ADMIN).await;
    let stats = h.screen(ADMIN).text();
    assert!(stats.contains("Users: 1") && stats.contains("Active subscriptions: 1"));
    h.tg.send_text(&admin, &format!("/block {}", erin.id));
    h.next("sendMessage", ADMIN).await;
    assert!(h.screen(ADMIN).text().contains("is blocked"));

    // A blocked person gets nothing at all.
    let before = h.tg.count("sendMessage");
    h.tg.send_text(&erin, "/start");
    h.settle().await;
    assert_eq!(h.tg.count("sendMessage"), before);
}

async fn reminders_go_out_once_even_across_restarts(db: &TestDb) {
    let mut h = Harness::start_reminding(db).await;
    let fay = signed_up(&h, 2006).await;
    let user = db
        .store
        .user_by_telegram(TelegramId(fay.id))
        .await
        .unwrap()
        .unwrap();
    db.grant(user.id, "manual", 2, time::OffsetDateTime::now_utc())
        .await;
    let reminder = h.next("sendMessage", fay.id).await;
    let text = reminder.params.str("text").unwrap();
    assert!(text.contains("ends in 2 day"), "{text}");
    tokio::time::sleep(Duration::from_millis(600)).await;
    h.restart().await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let reminders =
        h.tg.calls()
            .iter()
            .filter(|c| {
                c.params.i64("chat_id") == Some(fay.id)
                    && c.params.str("text").is_some_and(|t| t.contains("ends in"))
            })
            .count();
    assert_eq!(reminders, 1, "one reminder for one event");
    assert_eq!(count(db, "users").await, 1);
}

async fn a_reminder_says_when_the_subscription_has_ended(db: &TestDb) {
    let h = Harness::start_reminding(db).await;
    let ida = signed_up(&h, 2009).await;
    let user = db
        .store
        .user_by_telegram(TelegramId(ida.id))
        .await
        .unwrap()
        .unwrap();
    let started =
        time::OffsetDateTime::now_utc() - time::Duration::days(30) - time::Duration::hours(1);
    db.grant(user.id, "manual", 30, started).await;
    let ended = h.next("sendMessage", ida.id).await;
    let text = ended.params.str("text").unwrap();
    assert!(text.contains("has ended"), "{text}");
    assert!(
        h.screen(ida.id).buttons().contains(&"buy".to_owned()),
        "with a renew button"
    );
}

async fn server_errors_are_retried(db: &TestDb) {
    let h = Harness::start(db).await;
    let jo = h.tg.user(2010, "Jo", Some("en"));
    h.tg.fail_next_in_chat(jo.id, Some("sendMessage"), 1, Failure::ServerError);
    h.tg.send_text(&jo, "/start");
    let first = h.next("sendMessage", jo.id).await;
    assert!(first.failed);
    let second = h.next("sendMessage", jo.id).await;
    assert!(!second.failed, "the second try went through");
}

/// Makes every change to `users` fail while `fail_flag` has a row: a database hiccup on demand.
async fn install_induced_failure(db: &TestDb) {
    let pool = store::testing::pool(&db.store);
    let statements: &[&str] = match db.store.backend() {
        store::Backend::Sqlite => &[
            "CREATE TABLE fail_flag (x INTEGER)",
            "CREATE TRIGGER induced_failure BEFORE UPDATE ON users \
             WHEN EXISTS (SELECT 1 FROM fail_flag) BEGIN SELECT RAISE(ABORT, 'induced'); END",
        ],
        store::Backend::Postgres => &[
            "CREATE TABLE fail_flag (x INTEGER)",
            "CREATE FUNCTION induced_failure() RETURNS trigger AS $$ BEGIN \
             IF EXISTS (SELECT 1 FROM fail_flag) THEN RAISE EXCEPTION 'induced'; END IF; \
             RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER induced_failure BEFORE UPDATE ON users FOR EACH ROW \
             EXECUTE FUNCTION induced_failure()",
        ],
    };
    for sql in statements {
        sqlx::raw_sql(sql).execute(pool).await.unwrap();
    }
    sqlx::raw_sql("INSERT INTO fail_flag (x) VALUES (1)")
        .execute(pool)
        .await
        .unwrap();
}

async fn an_update_that_failed_is_tried_again(db: &TestDb) {
    let h = Harness::start(db).await;
    let kim = signed_up(&h, 2011).await;
    install_induced_failure(db).await;
    let menu = h.screen(kim.id);
    let answers = h.tg.count("answerCallbackQuery");
    let edits = h.tg.count("editMessageText");
    h.tg.press(&kim, menu.message_id, "sub");
    // The first try answers the press, then fails on the database a moment later: give it
    // that moment (the second try comes only a second later) before the database recovers.
    until(|| h.tg.count("answerCallbackQuery") > answers).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    sqlx::raw_sql("DELETE FROM fail_flag")
        .execute(store::testing::pool(&db.store))
        .await
        .unwrap();
    // The second try, a second later, gets through.
    until(|| h.tg.count("editMessageText") > edits).await;
    assert_eq!(
        h.tg.count("answerCallbackQuery"),
        answers + 2,
        "the press was handled twice: a failure, then a success"
    );
    assert!(h.screen(kim.id).text().contains("no subscription"));
}

/// Waits (up to 10 s) until `done` holds.
async fn until(done: impl Fn() -> bool) {
    for _ in 0..1000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the expected call never came");
}

async fn declining_leaves_nothing_behind(db: &TestDb) {
    let h = Harness::start(db).await;
    let gus = h.tg.user(2007, "Gus", None);
    h.tg.send_text(&gus, "hello");
    h.next("sendMessage", gus.id).await;
    h.press(&gus, "decline:ru").await;
    h.next("editMessageText", gus.id).await;
    assert!(h.screen(gus.id).text().contains("ничего"));
    assert_eq!(count(db, "users").await, 0);
    assert_eq!(count(db, "support_messages").await, 0);
}

async fn buttons_follow_what_is_on_sale(db: &TestDb) {
    // Card payments on, Stars off, no trial: Buy offers card checkout links only.
    let h = Harness::start_with(db, |settings| {
        settings.app.yookassa.enabled = true;
        settings.app.stars_enabled = false;
        settings.app.trial_days = 0;
    })
    .await;
    let hana = signed_up(&h, 2008).await;
    let menu = h.screen(hana.id);
    assert!(menu.buttons().contains(&"buy".to_owned()));
    assert!(
        !menu.buttons().contains(&"trial".to_owned()),
        "no trial button when it is off"
    );
    h.press(&hana, "buy").await;
    let buy = h.screen(hana.id);
    assert!(
        buy.buttons().iter().all(|b| !b.starts_with("plan:")),
        "no Stars invoices"
    );
    let links: Vec<String> = buy.json["reply_markup"]["inline_keyboard"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row.as_array().unwrap().clone())
        .filter_map(|b| b["url"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(links.len(), 2, "one card link per plan: {links:?}");
    assert!(links[0].starts_with("https://vpn.test/pay/checkout?t="));
    assert!(buy.text().contains("how to pay"));
}

store::backend_tests!(
    buttons_follow_what_is_on_sale,
    a_reminder_says_when_the_subscription_has_ended,
    server_errors_are_retried,
    an_update_that_failed_is_tried_again,
    a_restart_in_the_middle_of_a_conversation_loses_nothing,
    an_update_delivered_twice_acts_once,
    flood_control_is_waited_out,
    a_person_who_blocked_the_bot_is_not_messaged_again,
    admins_see_counts_and_grant_days,
    reminders_go_out_once_even_across_restarts,
    declining_leaves_nothing_behind,
);
