//! Two `milly serve` on one PostgreSQL: one leads and runs the bot, the reminders and the
//! payment reconciler; when it is killed the other takes over within 10 seconds, and nothing
//! is done twice: every update answered once, every reminder sent once, every card payment
//! credited once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use domain::{NewUser, PaymentStatus, Provider, Secret, TelegramId};
use store::testing::TestDb;
use testkit::{MillyHome, Process};
use tg_emulator::Emulator;
use time::OffsetDateTime;

const TOKEN: &str = "7000000001:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const SHOP_ID: &str = "700100";
const SECRET_KEY: &str = "test_secret_key_for_the_takeover";
const LEADS: &str = "leader: this process runs";
const STANDS_BY: &str = "leader: another process leads";

async fn wait_for_log(process: &Process, needle: &str, within: Duration) -> Duration {
    let start = Instant::now();
    while !process.log().contains(needle) {
        assert!(
            start.elapsed() < within,
            "{} never printed {needle:?} within {within:?}",
            process.name()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    start.elapsed()
}

/// Waits until the bot has sent `count` messages to `chat`, then a little longer to see that
/// no second answer follows.
async fn answered_once(tg: &Emulator, chat: i64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while tg.chat(chat).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the bot never answered chat {chat}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(tg.chat(chat).len(), 1, "one /start, one answer");
}

/// Waits until `chat` has `count` messages, then a little longer to see that no more follow.
async fn messages_settle_at(tg: &Emulator, chat: i64, count: usize, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while tg.chat(chat).len() < count {
        assert!(
            Instant::now() < deadline,
            "{what}: chat {chat} got {} messages, expected {count}",
            tg.chat(chat).len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(tg.chat(chat).len(), count, "{what}: nothing sent twice");
}

/// Someone who agreed to the policy and whose subscription ends in two days (inside the
/// default three-day reminder), known to the Telegram emulator so the bot can reach them.
async fn ending_soon(db: &TestDb, tg: &Emulator, telegram_id: i64, name: &str) {
    tg.user(telegram_id, name, Some("en"));
    let now = OffsetDateTime::now_utc();
    let mut new = NewUser::from_telegram_id(TelegramId(telegram_id));
    new.consent_at = Some(now);
    let user = db.store.create_user(&new, now).await.unwrap();
    db.grant(user.id, "month", 2, now).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_singleton_jobs_move_to_the_other_process_within_ten_seconds_when_the_leader_dies() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let tg = Emulator::start(TOKEN).await.unwrap();
    let yk = yookassa_emulator::Emulator::start(SHOP_ID, SECRET_KEY)
        .await
        .unwrap();

    // Before either process starts: Dora is due a reminder, and Carol has opened a card
    // payment two minutes ago (past the reconciler's grace) that YooKassa has not settled yet.
    ending_soon(&db, &tg, 1_000_000_104, "Dora").await;
    let carol = tg.user(1_000_000_103, "Carol", Some("en"));
    let two_minutes_ago = OffsetDateTime::now_utc() - time::Duration::minutes(2);
    let mut new = NewUser::from_telegram_id(TelegramId(carol.id));
    new.consent_at = Some(two_minutes_ago);
    let carol_user = db.store.create_user(&new, two_minutes_ago).await.unwrap();
    let settings = app::AppSettings {
        yookassa: billing::YooKassaSettings {
            enabled: true,
            shop_id: Secret::new(SHOP_ID),
            secret_key: Secret::new(SECRET_KEY),
            api_url: yk.url(),
            payment_methods: Vec::new(),
        },
        ..app::AppSettings::default()
    };
    let cards = app::CardPayments::new(app::App::new(db.store.clone(), settings)).unwrap();
    cards
        .start_checkout(&db.sub_token(carol_user.id).await, "month", two_minutes_ago)
        .await
        .unwrap();
    let carol_payment = yk.payment_ids().pop().unwrap();

    let extra = format!(
        "[database]\nurl = \"{}\"\n\n[telegram]\ntoken = \"{TOKEN}\"\napi_url = \"{}\"\n\n\
         [yookassa]\nenabled = true\nshop_id = \"{SHOP_ID}\"\nsecret_key = \"{SECRET_KEY}\"\n\
         api_url = \"{}\"\ncheck_source_ip = false\nreconcile_interval_secs = 1\n",
        db.url,
        tg.api_url(),
        yk.url()
    );
    let first_home = MillyHome::new(&extra).unwrap();
    let second_home = MillyHome::new(&extra).unwrap();
    let first = first_home.serve().await.unwrap();
    wait_for_log(&first, LEADS, Duration::from_secs(10)).await;
    let second = second_home.serve().await.unwrap();
    wait_for_log(&second, STANDS_BY, Duration::from_secs(10)).await;
    assert!(!second.log().contains(LEADS), "two leaders at once");

    let alice = tg.user(1_000_000_101, "Alice", Some("en"));
    tg.send_text(&alice, "/start");
    answered_once(&tg, alice.id).await;
    messages_settle_at(
        &tg,
        1_000_000_104,
        1,
        "Dora's reminder from the first leader",
    )
    .await;

    // SIGKILL: no goodbye, the database notices the session is gone.
    drop(first);
    // Only the next leader can do what happens from here on: Erin becomes due a reminder and
    // YooKassa settles Carol's payment without ever notifying the website.
    ending_soon(&db, &tg, 1_000_000_105, "Erin").await;
    yk.succeed(&carol_payment).unwrap();
    let took = wait_for_log(&second, LEADS, Duration::from_secs(10)).await;
    eprintln!("the second process took over after {took:?}");

    let bob = tg.user(1_000_000_102, "Bob", Some("en"));
    tg.send_text(&bob, "/start");
    answered_once(&tg, bob.id).await;
    assert_eq!(
        tg.chat(alice.id).len(),
        1,
        "nothing answered twice after the takeover"
    );
    messages_settle_at(&tg, 1_000_000_105, 1, "Erin's reminder from the new leader").await;
    assert_eq!(
        tg.chat(1_000_000_104).len(),
        1,
        "the new leader does not remind Dora again"
    );

    // The new leader's reconciler credits Carol's payment, once.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let payment = db
            .store
            .payment_by_provider_id(Provider::YooKassa, &carol_payment)
            .await
            .unwrap()
            .unwrap();
        if payment.status == PaymentStatus::Succeeded {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new leader's reconciler never credited the payment"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    messages_settle_at(&tg, carol.id, 1, "Carol hears of her payment").await;
    let shown = second_home
        .run(&["user", "show", &carol.id.to_string()])
        .unwrap();
    assert!(shown.contains("status: active"), "{shown}");
    let payments = second_home.run(&["payment", "list"]).unwrap();
    assert_eq!(
        payments.lines().filter(|l| l.contains("succeeded")).count(),
        1,
        "credited once: {payments}"
    );
    drop(second);
    drop(db);
}
