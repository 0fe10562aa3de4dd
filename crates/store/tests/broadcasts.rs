//! Broadcast audiences and counts on both backends: "expired in the last N days" takes those
//! whose subscription ended within the window (its start excluded), "trial only" those on the
//! free trial's plan without a successful payment, nobody unreachable is in any audience, N is
//! stored with the job, and each outcome (delivered, blocked the bot, other failure) is counted
//! apart.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use domain::{BroadcastAudience, BroadcastOutcome, TelegramId, UserId, TRIAL_PLAN_ID};
use store::testing::{card_payment, TestDb};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const NOW: OffsetDateTime = datetime!(2026-12-07 12:00 UTC);

/// The Telegram ids `audience` reaches, walked as the sender walks them, checked against its
/// count.
async fn walk(db: &TestDb, audience: BroadcastAudience) -> Vec<i64> {
    let mut out = Vec::new();
    let mut after = UserId(0);
    while let Some(user) = db
        .store
        .next_in_audience(audience, after, NOW)
        .await
        .unwrap()
    {
        out.push(user.telegram_id.0);
        after = user.id;
    }
    let count = db.store.count_audience(audience, NOW).await.unwrap();
    assert_eq!(count, out.len() as i64, "{audience:?}");
    out
}

fn within(days: i64) -> BroadcastAudience {
    BroadcastAudience::from_parts("expired_within", Some(days)).unwrap()
}

async fn expired_within_n_days_and_trial_only_pick_their_people(db: &TestDb) {
    let ago = |days: i64| NOW - Duration::days(days);
    let paid = db.subscriber(1, "month", 30, NOW).await;
    db.paid(&card_payment(paid.id, Some("yk-1"), NOW)).await;
    // Ended 2, 7 (exactly) and 40 days ago, never paid, on a paid plan granted by hand.
    db.subscriber(2, "month", 1, ago(3)).await;
    db.subscriber(3, "month", 1, ago(8)).await;
    db.subscriber(4, "month", 1, ago(41)).await;
    // On the trial now; a trial that ended 10 days ago.
    db.subscriber(5, TRIAL_PLAN_ID, 3, NOW).await;
    db.subscriber(6, TRIAL_PLAN_ID, 3, ago(13)).await;
    // On the trial's plan but paid already: not "trial only".
    let paying = db.subscriber(7, TRIAL_PLAN_ID, 3, NOW).await;
    db.paid(&card_payment(paying.id, Some("yk-7"), NOW)).await;
    // Never had a subscription.
    db.user(8, NOW).await;
    // Would match, but cannot be messaged.
    let gone = db.subscriber(9, TRIAL_PLAN_ID, 3, ago(5)).await;
    db.store.set_bot_unreachable(gone.id, true).await.unwrap();
    let banned = db.subscriber(10, "month", 1, ago(2)).await;
    db.store.set_blocked(banned.id, true).await.unwrap();

    assert_eq!(walk(db, within(1)).await, Vec::<i64>::new());
    assert_eq!(walk(db, within(3)).await, [2], "ended 2 days ago: inside");
    assert_eq!(
        walk(db, within(7)).await,
        [2],
        "ended exactly 7 days ago: outside"
    );
    assert_eq!(walk(db, within(8)).await, [2, 3]);
    assert_eq!(walk(db, within(30)).await, [2, 3, 6]);
    assert_eq!(walk(db, within(365)).await, [2, 3, 4, 6]);
    assert_eq!(
        walk(db, BroadcastAudience::Expired).await,
        [2, 3, 4, 6],
        "expired at any time"
    );
    assert_eq!(walk(db, BroadcastAudience::TrialOnly).await, [5, 6]);
    assert_eq!(
        walk(db, BroadcastAudience::NeverPaid).await,
        [2, 3, 4, 5, 6, 8]
    );
}

async fn a_job_keeps_its_days_and_counts_each_outcome_apart(db: &TestDb) {
    let admin = TelegramId(100);
    let job = db
        .store
        .create_broadcast(NOW, admin, within(14), "Come back", 6)
        .await
        .unwrap();
    assert_eq!(job.audience, within(14));
    assert_eq!((job.sent, job.blocked, job.failed), (0, 0, 0));
    let trial = db
        .store
        .create_broadcast(NOW, admin, BroadcastAudience::TrialOnly, "Try", 1)
        .await
        .unwrap();
    assert_eq!(trial.audience, BroadcastAudience::TrialOnly);
    for outcome in [
        BroadcastOutcome::Delivered,
        BroadcastOutcome::Delivered,
        BroadcastOutcome::Delivered,
        BroadcastOutcome::BlockedBot,
        BroadcastOutcome::BlockedBot,
        BroadcastOutcome::Failed,
    ] {
        db.store
            .count_broadcast_message(job.id, outcome)
            .await
            .unwrap();
    }
    let read = db.store.broadcast(job.id).await.unwrap().unwrap();
    assert_eq!((read.sent, read.blocked, read.failed), (3, 2, 1));
    assert_eq!(read.audience.days().map(|d| d.get()), Some(14));
    let recent = db.store.recent_broadcasts(5).await.unwrap();
    assert_eq!(recent[0].audience, BroadcastAudience::TrialOnly);
    assert_eq!(recent[1].audience, within(14));
}

store::backend_tests!(
    expired_within_n_days_and_trial_only_pick_their_people,
    a_job_keeps_its_days_and_counts_each_outcome_apart,
);
