//! The bot's bookkeeping and support tickets on both backends.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use domain::{Money, PaymentStatus, UserId};
use store::testing::{card_payment, stars_payment, TestDb};
use store::NewPayment;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const NOW: OffsetDateTime = datetime!(2026-04-01 12:00 UTC);

/// Whether the `kind` reminder about the subscription ending at `ends_at` is `user`'s to send.
async fn remind(db: &TestDb, user: UserId, kind: &str, ends_at: OffsetDateTime) -> bool {
    let claimed = db.store.claim_reminder(user, kind, ends_at, NOW).await;
    claimed.unwrap()
}

async fn an_update_is_claimed_once(db: &TestDb) {
    assert!(db.store.claim_update(10, NOW).await.unwrap());
    assert!(!db.store.claim_update(10, NOW).await.unwrap());
    assert!(db.store.claim_update(11, NOW).await.unwrap());
    assert_eq!(
        db.store
            .prune_updates(NOW + Duration::days(2))
            .await
            .unwrap(),
        2
    );
}

async fn conversation_state_survives_and_can_end(db: &TestDb) {
    let u = db.user(1, NOW).await;
    assert_eq!(db.store.conversation(u.id).await.unwrap(), None);
    db.store
        .set_conversation(u.id, Some("email"), NOW)
        .await
        .unwrap();
    db.store
        .set_conversation(u.id, Some("support"), NOW)
        .await
        .unwrap();
    assert_eq!(
        db.store.conversation(u.id).await.unwrap().as_deref(),
        Some("support")
    );
    db.store.set_conversation(u.id, None, NOW).await.unwrap();
    assert_eq!(db.store.conversation(u.id).await.unwrap(), None);
    let ghost = db
        .store
        .set_conversation(domain::UserId(999), Some("x"), NOW)
        .await;
    assert!(
        matches!(ghost, Err(store::StoreError::UserNotFound)),
        "{ghost:?}"
    );
}

async fn a_reminder_is_sent_once_per_subscription_end(db: &TestDb) {
    let u = db.user(1, NOW).await;
    let sub = db.grant(u.id, "m", 10, NOW).await;
    assert!(remind(db, u.id, "3d", sub.ends_at).await);
    assert!(!remind(db, u.id, "3d", sub.ends_at).await);
    assert!(remind(db, u.id, "1d", sub.ends_at).await);
    let extended = db.grant(u.id, "m", 10, NOW).await;
    assert!(remind(db, u.id, "3d", extended.ends_at).await);
}

async fn reminders_and_broadcasts_skip_blocked_and_unreachable_people(db: &TestDb) {
    let soon = db.user(1, NOW).await;
    let later = db.user(2, NOW).await;
    let blocked = db.user(3, NOW).await;
    let gone_quiet = db.user(4, NOW).await;
    let never_paid = db.user(5, NOW).await;
    for (u, days) in [(&soon, 2), (&later, 20), (&blocked, 2), (&gone_quiet, 2)] {
        db.grant(u.id, "m", days, NOW).await;
    }
    db.store.set_blocked(blocked.id, true).await.unwrap();
    db.store
        .set_bot_unreachable(gone_quiet.id, true)
        .await
        .unwrap();
    assert_eq!(
        db.store.bot_unreachable(gone_quiet.id).await.unwrap(),
        Some(true)
    );

    let ending = db
        .store
        .subscriptions_ending(NOW, NOW + Duration::days(3))
        .await
        .unwrap();
    assert_eq!(
        ending.iter().map(|(u, _)| u.id).collect::<Vec<_>>(),
        vec![soon.id]
    );
    assert_eq!(ending[0].1.ends_at, NOW + Duration::days(2));

    let everyone = db.store.broadcast_targets(false, NOW).await.unwrap();
    assert_eq!(
        everyone.iter().map(|u| u.id).collect::<Vec<_>>(),
        vec![soon.id, later.id, never_paid.id]
    );
    let active = db
        .store
        .broadcast_targets(true, NOW + Duration::days(5))
        .await
        .unwrap();
    assert_eq!(
        active.iter().map(|u| u.id).collect::<Vec<_>>(),
        vec![later.id]
    );

    db.store
        .set_bot_unreachable(gone_quiet.id, false)
        .await
        .unwrap();
    assert_eq!(
        db.store.broadcast_targets(false, NOW).await.unwrap().len(),
        4
    );
}

async fn an_operator_reply_finds_its_ticket(db: &TestDb) {
    let u = db.user(1, NOW).await;
    let (ticket, first) = db.store.open_ticket(u.id, "help", NOW).await.unwrap();
    db.store
        .set_support_relay(first, -1_001_234, 501)
        .await
        .unwrap();
    assert_eq!(
        db.store.ticket_by_relay(-1_001_234, 501).await.unwrap(),
        Some((ticket, u.id))
    );
    assert_eq!(
        db.store.ticket_by_relay(-1_001_234, 502).await.unwrap(),
        None
    );
    db.store
        .add_support_message(ticket, true, "answer", NOW + Duration::minutes(5))
        .await
        .unwrap();
    let messages = db.store.support_messages(u.id).await.unwrap();
    assert_eq!(
        messages
            .iter()
            .map(|m| (m.body.as_str(), m.from_operator))
            .collect::<Vec<_>>(),
        vec![("help", false), ("answer", true)]
    );
}

async fn support_tickets_expire_by_their_own_retention(db: &TestDb) {
    let u = db.user(1, NOW).await;
    let (old, _) = db.store.open_ticket(u.id, "old", NOW).await.unwrap();
    let (recent, _) = db.store.open_ticket(u.id, "recent", NOW).await.unwrap();
    db.store
        .add_support_message(recent, true, "reply", NOW + Duration::days(40))
        .await
        .unwrap();
    let purged = db
        .store
        .purge_support_tickets(NOW + Duration::days(30))
        .await
        .unwrap();
    assert_eq!(purged, 1);
    let left = db.store.support_messages(u.id).await.unwrap();
    assert!(left.iter().all(|m| m.ticket == recent) && left.len() == 2);
    assert!(left.iter().all(|m| m.ticket != old));
}

async fn revenue_sums_succeeded_payments_per_currency(db: &TestDb) {
    let u = db.user(1, NOW).await;
    let rub = |minor, created_at| NewPayment {
        amount: Money::rub_kopecks(minor),
        ..card_payment(u.id, None, created_at)
    };
    for (minor, at, settle) in [
        (19_900, NOW, true),
        (9_900, NOW + Duration::days(1), true),
        (50_000, NOW, false),
        (1_000, NOW - Duration::days(40), true),
    ] {
        let p = db.store.create_payment(&rub(minor, at)).await.unwrap();
        if settle {
            db.store
                .settle_payment(p.id, PaymentStatus::Succeeded, None, at)
                .await
                .unwrap();
        }
    }
    db.store
        .record_paid(&stars_payment(u.id, "c1", NOW))
        .await
        .unwrap();
    let revenue = db
        .store
        .revenue_since(NOW - Duration::days(1))
        .await
        .unwrap();
    assert_eq!(
        revenue,
        vec![(Money::rub_kopecks(29_800), 2), (Money::stars(150), 1)]
    );
}

store::backend_tests!(
    an_update_is_claimed_once,
    conversation_state_survives_and_can_end,
    a_reminder_is_sent_once_per_subscription_end,
    reminders_and_broadcasts_skip_blocked_and_unreachable_people,
    an_operator_reply_finds_its_ticket,
    support_tickets_expire_by_their_own_retention,
    revenue_sums_succeeded_payments_per_currency,
);
