//! Two `milly serve` on one PostgreSQL: one leads and runs the bot; when it is killed the other
//! takes over within 10 seconds, and every update is answered exactly once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use store::testing::TestDb;
use testkit::{MillyHome, Process};
use tg_emulator::Emulator;

const TOKEN: &str = "7000000001:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_moves_to_the_other_process_within_ten_seconds_when_the_leader_dies() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let tg = Emulator::start(TOKEN).await.unwrap();
    let extra = format!(
        "[database]\nurl = \"{}\"\n\n[telegram]\ntoken = \"{TOKEN}\"\napi_url = \"{}\"\n",
        db.url,
        tg.api_url()
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

    // SIGKILL: no goodbye, the database notices the session is gone.
    drop(first);
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
    drop(second);
    drop(db);
}
