//! The admin panel's records on both backends: a login link is claimed once (also by racing
//! claims) and never after it expired; a session lives until it is ended, idle or past its
//! end; the retention purge removes ended ones only; the audit list reads back newest first, in
//! pages, and is purged by age; and the panel's reads (people by @username, payments a page at
//! a time, trials, revenue per day and provider).
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use domain::{AdminAction, AdminToken, Provider, TelegramId, UserId};
use store::testing::{card_payment, stars_payment, TestDb};
use store::AuditTarget;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const NOW: OffsetDateTime = datetime!(2026-12-07 12:00 UTC);
const ADMIN: TelegramId = TelegramId(4_242);

async fn issue(db: &TestDb, at: OffsetDateTime) -> AdminToken {
    let token = AdminToken::generate();
    db.store
        .issue_admin_login(&token.hash(), ADMIN, at, at + Duration::minutes(10))
        .await
        .unwrap();
    token
}

async fn a_login_link_is_claimed_once_and_never_after_it_expired(db: &TestDb) {
    let link = issue(db, NOW).await;
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let store = db.store.clone();
            let hash = link.hash();
            tokio::spawn(async move { store.claim_admin_login(&hash, NOW).await.unwrap() })
        })
        .collect();
    let mut won = Vec::new();
    for task in tasks {
        won.push(task.await.unwrap());
    }
    assert_eq!(won.iter().filter(|c| c.is_some()).count(), 1, "{won:?}");
    assert_eq!(won.iter().flatten().next(), Some(&ADMIN));

    let stale = issue(db, NOW).await;
    let late = NOW + Duration::minutes(10);
    assert_eq!(
        db.store
            .claim_admin_login(&stale.hash(), late)
            .await
            .unwrap(),
        None
    );
    let unknown = AdminToken::generate();
    assert_eq!(
        db.store
            .claim_admin_login(&unknown.hash(), NOW)
            .await
            .unwrap(),
        None
    );
}

async fn a_session_lives_until_ended_idle_or_past_its_end_and_is_then_purged(db: &TestDb) {
    let store = &db.store;
    let idle = Duration::hours(12);
    let session = AdminToken::generate();
    let end = NOW + Duration::days(7);
    store
        .create_admin_session(&session.hash(), ADMIN, NOW, end)
        .await
        .unwrap();
    let hash = session.hash();
    let touch = |at: OffsetDateTime| store.touch_admin_session(&hash, at, at - idle);
    // Used every 11 hours it stays alive, up to its end.
    let mut at = NOW;
    while at + Duration::hours(11) < end {
        at += Duration::hours(11);
        assert_eq!(touch(at).await.unwrap(), Some(ADMIN), "{at}");
    }
    assert_eq!(touch(end).await.unwrap(), None, "past its end");

    let idle_one = AdminToken::generate();
    store
        .create_admin_session(&idle_one.hash(), ADMIN, NOW, end)
        .await
        .unwrap();
    let later = NOW + Duration::hours(12);
    assert_eq!(
        store
            .touch_admin_session(&idle_one.hash(), later, later - idle)
            .await
            .unwrap(),
        None
    );

    let ended = AdminToken::generate();
    store
        .create_admin_session(&ended.hash(), ADMIN, NOW, end)
        .await
        .unwrap();
    assert!(store.end_admin_session(&ended.hash()).await.unwrap());
    assert_eq!(
        store
            .touch_admin_session(&ended.hash(), NOW, NOW - idle)
            .await
            .unwrap(),
        None
    );
    assert!(!store.end_admin_session(&ended.hash()).await.unwrap());

    let live = AdminToken::generate();
    store
        .create_admin_session(&live.hash(), ADMIN, later, later + Duration::days(7))
        .await
        .unwrap();
    issue(db, NOW).await; // expired by `later`
    let fresh = issue(db, later).await;
    let counted = store
        .count_expired_admin_sign_ins(later, later - idle)
        .await
        .unwrap();
    assert_eq!(
        store
            .purge_admin_sign_ins(later, later - idle)
            .await
            .unwrap(),
        counted
    );
    assert_eq!(counted, 2, "the idle session and the expired link");
    assert_eq!(
        store
            .touch_admin_session(&live.hash(), later, later - idle)
            .await
            .unwrap(),
        Some(ADMIN)
    );
    assert_eq!(
        store.claim_admin_login(&fresh.hash(), later).await.unwrap(),
        Some(ADMIN)
    );
    // A week on: the first session is past its end, the live one idle, the used link expired.
    assert_eq!(
        store.purge_admin_sign_ins(end, end - idle).await.unwrap(),
        3
    );
}

async fn the_audit_list_reads_newest_first_in_pages_and_is_purged_by_age(db: &TestDb) {
    let store = &db.store;
    let old = NOW - Duration::days(400);
    store
        .record_audit(old, ADMIN, AdminAction::SignIn, None)
        .await
        .unwrap();
    for i in 0..5 {
        store
            .record_audit(
                NOW,
                ADMIN,
                AdminAction::ExtendUser,
                Some(AuditTarget::User(i)),
            )
            .await
            .unwrap();
    }
    store
        .record_audit(
            NOW,
            ADMIN,
            AdminAction::RefundPayment,
            Some(AuditTarget::Payment(9)),
        )
        .await
        .unwrap();
    let first = store.audit_entries(None, 3).await.unwrap();
    assert_eq!(first[0].action, AdminAction::RefundPayment);
    assert_eq!(first[0].target, Some(AuditTarget::Payment(9)));
    assert_eq!(first[1].target, Some(AuditTarget::User(4)));
    let rest = store.audit_entries(Some(first[2].id), 10).await.unwrap();
    assert_eq!(rest.len(), 4);
    assert_eq!(rest[3].action, AdminAction::SignIn);
    assert_eq!(rest[3].target, None);
    assert_eq!(rest[3].at, old);
    let cutoff = NOW - Duration::days(365);
    assert_eq!(store.count_audit_before(cutoff).await.unwrap(), 1);
    assert_eq!(store.purge_audit(cutoff).await.unwrap(), 1);
    assert_eq!(store.audit_entries(None, 100).await.unwrap().len(), 6);
}

async fn the_panel_finds_people_by_username_and_sums_revenue_per_day(db: &TestDb) {
    let store = &db.store;
    let someone = store
        .create_user(&store::testing::someone::new_user(NOW), NOW)
        .await
        .unwrap();
    let found = store.user_by_username("ZERELDA_Q_TG").await.unwrap();
    assert_eq!(found.map(|u| u.id), Some(someone.id));
    assert!(store.user_by_username("zerelda").await.unwrap().is_none());

    let trial = db.user(2, NOW).await;
    db.grant(trial.id, domain::TRIAL_PLAN_ID, 3, NOW).await;
    let ended = db.user(3, NOW).await;
    db.grant(ended.id, domain::TRIAL_PLAN_ID, 3, NOW - Duration::days(10))
        .await;
    assert_eq!(store.active_trials(NOW).await.unwrap(), 1);

    let payer: UserId = someone.id;
    let yesterday = NOW - Duration::days(1);
    db.paid(&card_payment(payer, Some("yk-1"), yesterday)).await;
    db.paid(&card_payment(
        payer,
        Some("yk-2"),
        yesterday + Duration::hours(1),
    ))
    .await;
    db.paid(&stars_payment(payer, "tg-1", NOW)).await;
    db.pending(&card_payment(payer, Some("yk-3"), NOW)).await;
    let days = store
        .revenue_by_day(NOW - Duration::days(30))
        .await
        .unwrap();
    assert_eq!(days.len(), 2, "{days:?}");
    assert_eq!(days[0].provider, Provider::TelegramStars);
    assert_eq!(days[0].total.minor, 150);
    assert_eq!(days[1].provider, Provider::YooKassa);
    assert_eq!((days[1].total.minor, days[1].payments), (39_800, 2));
    assert_eq!(days[0].day - days[1].day, 1);

    let page = store.payments_page(0, 2).await.unwrap();
    assert_eq!(page.len(), 2);
    assert!(page[0].id > page[1].id, "newest first");
    let next = store.payments_page(2, 2).await.unwrap();
    assert_eq!(next.len(), 2);
    assert!(next[0].id < page[1].id);
}

async fn an_admin_who_is_also_a_user_finds_their_actions_in_the_export_and_loses_sessions_at_erasure(
    db: &TestDb,
) {
    let store = &db.store;
    let me = db.user(ADMIN.0, NOW).await;
    store
        .record_audit(
            NOW,
            ADMIN,
            AdminAction::BlockUser,
            Some(AuditTarget::User(9)),
        )
        .await
        .unwrap();
    let export = store.export_user(me.id).await.unwrap().unwrap();
    let json = serde_json::to_value(&export).unwrap();
    assert_eq!(json["admin_actions"][0]["action"], "user.block");
    let session = AdminToken::generate();
    store
        .create_admin_session(&session.hash(), ADMIN, NOW, NOW + Duration::days(7))
        .await
        .unwrap();
    let link = issue(db, NOW).await;
    store.erase_user(me.id).await.unwrap();
    let idle = NOW - Duration::hours(12);
    assert_eq!(
        store
            .touch_admin_session(&session.hash(), NOW, idle)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.claim_admin_login(&link.hash(), NOW).await.unwrap(),
        None
    );
    // The record of what was done stays its year.
    assert_eq!(store.audit_entries(None, 10).await.unwrap().len(), 1);
}

store::backend_tests!(
    an_admin_who_is_also_a_user_finds_their_actions_in_the_export_and_loses_sessions_at_erasure,
    a_login_link_is_claimed_once_and_never_after_it_expired,
    a_session_lives_until_ended_idle_or_past_its_end_and_is_then_purged,
    the_audit_list_reads_newest_first_in_pages_and_is_purged_by_age,
    the_panel_finds_people_by_username_and_sums_revenue_per_day,
);
