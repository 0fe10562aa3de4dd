//! Broadcasts sent by the bot, against the Telegram emulator over HTTP, on SQLite and
//! PostgreSQL: a job the web panel recorded reaches exactly its audience once, a preview
//! reaches only its admin, and a new leader resumes a broadcast after the last person the old
//! one claimed, sending nobody the message twice, and the counts keep those who blocked the bot
//! or deleted their account (Telegram's 403s) apart from other failures (`/broadcast` uses the
//! same jobs: `robustness.rs`).
#![allow(clippy::unwrap_used)]

mod harness;

use domain::{BroadcastAudience, TelegramId};
use harness::{Harness, ADMIN};
use store::testing::TestDb;
use tg_emulator::Failure;
use time::OffsetDateTime;

/// How many messages with `text` went to `chat`.
fn received(h: &Harness, chat: i64, text: &str) -> usize {
    h.tg.chat(chat).iter().filter(|m| m.text() == text).count()
}

/// Waits until broadcast `id` is finished.
async fn finished(h: &Harness, id: i64) {
    for _ in 0..200 {
        if h.app
            .broadcast(id)
            .await
            .unwrap()
            .unwrap()
            .finished_at
            .is_some()
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("broadcast {id} never finished");
}

async fn a_job_from_the_panel_reaches_its_audience_once_and_a_preview_only_its_admin(db: &TestDb) {
    let h = Harness::start(db).await;
    let now = OffsetDateTime::now_utc();
    h.tg.register(&h.tg.user(ADMIN, "Admin", Some("en")));
    for (id, paying) in [(6001, true), (6002, false), (6003, false)] {
        let person = h.tg.user(id, "P", Some("en"));
        h.tg.register(&person);
        let user = db.user(id, now).await;
        if paying {
            db.paid(&store::testing::card_payment(
                user.id,
                Some(&format!("yk-{id}")),
                now,
            ))
            .await;
        }
    }
    let admin = TelegramId(ADMIN);
    let preview = h
        .app
        .start_broadcast(admin, BroadcastAudience::Preview, "Preview <b>me</b>", now)
        .await
        .unwrap();
    let job = h
        .app
        .start_broadcast(admin, BroadcastAudience::NeverPaid, "Try a plan", now)
        .await
        .unwrap();
    finished(&h, preview.id).await;
    finished(&h, job.id).await;
    assert_eq!(
        received(&h, ADMIN, "Preview <b>me</b>"),
        1,
        "escaped, to the admin"
    );
    for id in [6001, 6002, 6003] {
        assert_eq!(received(&h, id, "Preview <b>me</b>"), 0);
    }
    assert_eq!(received(&h, 6001, "Try a plan"), 0, "they paid");
    assert_eq!(received(&h, 6002, "Try a plan"), 1);
    assert_eq!(received(&h, 6003, "Try a plan"), 1);
    let done = h.app.broadcast(job.id).await.unwrap().unwrap();
    assert_eq!((done.sent, done.failed), (2, 0));
    h.tg.wait_for(|c| {
        c.params.i64("chat_id") == Some(ADMIN)
            && c.params
                .str("text")
                .is_some_and(|t| t.contains(&format!("#{} done: 2 delivered", job.id)))
    })
    .await;
}

async fn a_new_leader_resumes_a_broadcast_after_the_last_person_claimed(db: &TestDb) {
    let mut h = Harness::start(db).await;
    let now = OffsetDateTime::now_utc();
    h.tg.register(&h.tg.user(ADMIN, "Admin", Some("en")));
    for id in 7001..=7005 {
        h.tg.register(&h.tg.user(id, "P", Some("en")));
        db.user(id, now).await;
    }
    // A leader took the broadcast as far as the second person and stopped.
    h.stop().await;
    let job = h
        .app
        .start_broadcast(
            TelegramId(ADMIN),
            BroadcastAudience::All,
            "Hello everyone",
            now,
        )
        .await
        .unwrap();
    for _ in 0..2 {
        h.app.claim_broadcast_recipient(job.id, now).await.unwrap();
    }
    h.restart().await;
    finished(&h, job.id).await;
    let got: Vec<usize> = (7001..=7005)
        .map(|id| received(&h, id, "Hello everyone"))
        .collect();
    assert_eq!(
        got,
        [0, 0, 1, 1, 1],
        "resumed after the cursor, nobody twice"
    );
}

async fn blocked_deactivated_and_other_failures_are_counted_apart(db: &TestDb) {
    let h = Harness::start(db).await;
    let now = OffsetDateTime::now_utc();
    h.tg.register(&h.tg.user(ADMIN, "Admin", Some("en")));
    for id in 8001..=8005 {
        h.tg.register(&h.tg.user(id, "P", Some("en")));
        db.user(id, now).await;
    }
    // As Telegram answers for these chats, however often the bot tries.
    h.tg.fail_next_in_chat(8002, None, u32::MAX, Failure::Blocked);
    h.tg.fail_next_in_chat(8003, None, u32::MAX, Failure::Deactivated);
    h.tg.fail_next_in_chat(8004, None, u32::MAX, Failure::ChatNotFound);
    let job = h
        .app
        .start_broadcast(TelegramId(ADMIN), BroadcastAudience::All, "News", now)
        .await
        .unwrap();
    assert_eq!(job.recipients, 5);
    finished(&h, job.id).await;
    let done = h.app.broadcast(job.id).await.unwrap().unwrap();
    assert_eq!((done.sent, done.blocked, done.failed), (2, 2, 1));
    assert_eq!(received(&h, 8001, "News"), 1);
    assert_eq!(received(&h, 8005, "News"), 1);
    h.tg.wait_for(|c| {
        c.params.i64("chat_id") == Some(ADMIN)
            && c.params.str("text").is_some_and(|t| {
                t.contains(&format!(
                    "#{} done: 2 delivered, 2 blocked the bot, 1 other failures",
                    job.id
                ))
            })
    })
    .await;
    // The two 403s are not messaged again; the missing chat may be (it is not a refusal).
    for (id, unreachable) in [(8002, true), (8003, true), (8004, false), (8005, false)] {
        let user = db
            .store
            .user_by_telegram(TelegramId(id))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            db.store.bot_unreachable(user.id).await.unwrap(),
            Some(unreachable),
            "{id}"
        );
    }
    assert_eq!(
        db.store
            .count_audience(BroadcastAudience::All, now)
            .await
            .unwrap(),
        3
    );
}

store::backend_tests!(
    blocked_deactivated_and_other_failures_are_counted_apart,
    a_job_from_the_panel_reaches_its_audience_once_and_a_preview_only_its_admin,
    a_new_leader_resumes_a_broadcast_after_the_last_person_claimed,
);
