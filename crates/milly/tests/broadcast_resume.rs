//! A broadcast survives a SIGKILL of `milly serve` midway: the next start resumes it after the
//! last person claimed, so everyone gets the message exactly once, except at most the one
//! person claimed at the moment of the kill (the claim is written before the send, so a kill
//! between the two skips them rather than sending twice). Nobody gets it twice, and the admin
//! hears once that it is done.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use domain::{BroadcastAudience, TelegramId, UserId};
use store::testing::TestDb;
use testkit::MillyHome;
use tg_emulator::Emulator;
use time::OffsetDateTime;

const TOKEN: &str = "7000000002:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const ADMIN: i64 = 2_000_000_000;
const FIRST: i64 = 2_000_000_001;
const PEOPLE: i64 = 100;
const BODY: &str = "Maintenance on Sunday";

/// How many broadcast messages the emulator has received so far.
fn sent_so_far(tg: &Emulator) -> usize {
    tg.calls()
        .iter()
        .filter(|c| c.method == "sendMessage" && c.params.str("text").as_deref() == Some(BODY))
        .count()
}

async fn a_broadcast_killed_midway_resumes_without_sending_anyone_twice(db: &TestDb) {
    let tg = Emulator::start(TOKEN).await.unwrap();
    let now = OffsetDateTime::now_utc();
    tg.user(ADMIN, "Admin", Some("en"));
    for id in FIRST..FIRST + PEOPLE {
        tg.user(id, "P", Some("en"));
        db.user(id, now).await;
    }
    let app = app::App::new(db.store.clone(), app::AppSettings::default());
    let job = app
        .start_broadcast(TelegramId(ADMIN), BroadcastAudience::All, BODY, now)
        .await
        .unwrap();
    assert_eq!(job.recipients, PEOPLE);

    let extra = format!(
        "[database]\nurl = \"{}\"\n\n[telegram]\ntoken = \"{TOKEN}\"\napi_url = \"{}\"\n",
        db.url,
        tg.api_url()
    );
    let home = MillyHome::new(&extra).unwrap();
    let first = home.serve().await.unwrap();
    // Kill once a fifth has gone out, watching the emulator rather than guessing with sleeps.
    let deadline = Instant::now() + Duration::from_secs(60);
    while sent_so_far(&tg) < (PEOPLE / 5) as usize {
        assert!(Instant::now() < deadline, "the broadcast never got going");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Dropping the process sends SIGKILL: no shutdown, no chance to finish the message in hand.
    drop(first);
    let at_kill = sent_so_far(&tg);
    let stopped = db.store.broadcast(job.id).await.unwrap().unwrap();
    assert!(stopped.finished_at.is_none(), "killed midway");
    assert!(
        (at_kill as i64) < PEOPLE,
        "killed before the end: {at_kill}"
    );
    // The person claimed last before the kill: the only one who may have missed it.
    let in_hand = stopped.cursor;
    eprintln!("killed after {at_kill} of {PEOPLE} messages, {in_hand:?} in hand");

    let second = home.serve().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let done = loop {
        let job = db.store.broadcast(job.id).await.unwrap().unwrap();
        if job.finished_at.is_some() {
            break job;
        }
        assert!(
            Instant::now() < deadline,
            "the restarted process never finished the broadcast"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        sent_so_far(&tg) > at_kill,
        "the second process sent the rest"
    );

    let mut missed = Vec::new();
    for id in FIRST..FIRST + PEOPLE {
        let got = tg.chat(id).iter().filter(|m| m.text() == BODY).count();
        assert!(got <= 1, "{id} got the broadcast {got} times");
        if got == 0 {
            let user = db
                .store
                .user_by_telegram(TelegramId(id))
                .await
                .unwrap()
                .unwrap();
            missed.push(user.id);
        }
    }
    assert!(
        missed.is_empty() || missed == [in_hand],
        "only the person in hand at the kill ({in_hand:?}) may miss it: {missed:?}"
    );
    assert_ne!(in_hand, UserId(0));
    let counted = done.sent + done.blocked + done.failed;
    assert!(
        counted == PEOPLE || counted == PEOPLE - 1,
        "each message counted at most once: {counted}"
    );

    // The report comes once, from the process that finished.
    let deadline = Instant::now() + Duration::from_secs(20);
    let report = |tg: &Emulator| {
        tg.chat(ADMIN)
            .iter()
            .filter(|m| m.text().contains(&format!("#{} done:", job.id)))
            .count()
    };
    while report(&tg) == 0 {
        assert!(
            Instant::now() < deadline,
            "the admin never heard it is done"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(second);
    assert_eq!(report(&tg), 1);
}

store::backend_tests!(a_broadcast_killed_midway_resumes_without_sending_anyone_twice);
