//! Retention (policy 8.1-8.2) on SQLite and PostgreSQL, with backdated data: people whose last
//! subscription ended more than `[privacy] retention_days` ago and who have not used the service
//! since are erased as a deletion erases; support tickets and bot bookkeeping go by their own
//! declared retention; a dry run only counts. And `milly privacy purge` prints counts only.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use domain::inventory::{
    ACCESS_TOMBSTONE_RETENTION_DAYS, BOT_UPDATE_RETENTION_DAYS, SUPPORT_TICKET_RETENTION_DAYS,
};
use domain::{Language, NewUser, TelegramId, User};
use store::testing::TestDb;
use testkit::milly::cli;
use time::{Duration, OffsetDateTime};

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn app(db: &TestDb, retention_days: u32) -> app::App {
    let settings = app::AppSettings {
        retention_days,
        ..app::AppSettings::default()
    };
    app::App::new(db.store.clone(), settings)
}

async fn person(db: &TestDb, telegram_id: i64, joined: OffsetDateTime) -> User {
    let new = NewUser {
        telegram_id: TelegramId(telegram_id),
        first_name: format!("Person{telegram_id}"),
        last_name: None,
        username: None,
        language: Language::Ru,
        consent_at: Some(joined),
    };
    db.store.create_user(&new, joined).await.unwrap()
}

/// Four people, backdated: one long gone, one gone but seen recently, one whose subscription
/// ended recently, one who joined long ago and never subscribed.
async fn people_who_stay_and_people_who_go(db: &TestDb) {
    let retention = 30;
    let long_ago = now() - Duration::days(400);
    let gone = person(db, 501, long_ago).await;
    db.grant(gone.id, "month", 30, long_ago).await;
    db.store
        .open_ticket(gone.id, "old question", long_ago)
        .await
        .unwrap();

    let came_back = person(db, 502, long_ago).await;
    db.grant(came_back.id, "month", 30, long_ago).await;
    db.store
        .touch_last_seen(came_back.id, now() - Duration::days(2))
        .await
        .unwrap();

    let recent = person(db, 503, long_ago).await;
    db.grant(recent.id, "month", 380, long_ago).await;

    let never_subscribed = person(db, 504, long_ago).await;

    let app = app(db, retention);
    let dry = app.purge_expired(now(), true).await.unwrap();
    assert_eq!(dry.people, 2, "{dry:?}");
    assert_eq!(
        dry.support_tickets, 1,
        "the ticket of 400 days ago is past its own retention"
    );
    assert!(
        db.store.user(gone.id).await.unwrap().is_some(),
        "a dry run erases nobody"
    );
    assert_eq!(db.store.support_messages(gone.id).await.unwrap().len(), 1);

    let done = app.purge_expired(now(), false).await.unwrap();
    assert_eq!(done.people, 2);
    for erased in [&gone, &never_subscribed] {
        assert!(db.store.user(erased.id).await.unwrap().is_none());
        assert!(db.store.credentials(erased.id).await.unwrap().is_none());
        assert!(db.store.export_user(erased.id).await.unwrap().is_none());
    }
    for kept in [&came_back, &recent] {
        assert!(db.store.user(kept.id).await.unwrap().is_some());
    }
    let dump = serde_json::to_string(&db.store.dump().await.unwrap()).unwrap();
    assert!(!dump.contains("Person501") && !dump.contains("old question"));
    assert!(dump.contains("Person502") && dump.contains("Person503"));

    let again = app.purge_expired(now(), false).await.unwrap();
    assert_eq!(
        again,
        app::PurgeReport::default(),
        "a second run finds nothing"
    );
}

async fn support_tickets_and_bot_updates_follow_their_own_retention(db: &TestDb) {
    let someone = person(db, 601, now() - Duration::days(10)).await;
    let old = now() - Duration::days(i64::from(SUPPORT_TICKET_RETENTION_DAYS) + 1);
    db.store
        .open_ticket(someone.id, "stale ticket", old)
        .await
        .unwrap();
    db.store
        .open_ticket(someone.id, "fresh ticket", now() - Duration::days(1))
        .await
        .unwrap();
    let stale_update = now() - Duration::days(i64::from(BOT_UPDATE_RETENTION_DAYS) + 1);
    assert!(db.store.claim_update(1, stale_update).await.unwrap());
    assert!(db.store.claim_update(2, now()).await.unwrap());

    let dry = app(db, 1095).purge_expired(now(), true).await.unwrap();
    assert_eq!((dry.support_tickets, dry.bot_updates), (1, 1), "{dry:?}");

    let report = app(db, 1095).purge_expired(now(), false).await.unwrap();
    assert_eq!(report.people, 0, "an active account stays");
    assert_eq!(report.support_tickets, 1);
    assert_eq!(report.bot_updates, 1);
    let left: Vec<String> = db
        .store
        .support_messages(someone.id)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.body)
        .collect();
    assert_eq!(left, vec!["fresh ticket".to_owned()]);
    // Update 1 was forgotten, so it could be claimed again; update 2 is still remembered.
    assert!(db.store.claim_update(1, now()).await.unwrap());
    assert!(!db.store.claim_update(2, now()).await.unwrap());
}

async fn revoked_access_ids_are_forgotten_after_their_own_retention(db: &TestDb) {
    let someone = person(db, 701, now()).await;
    db.store.erase_user(someone.id).await.unwrap();
    let app = app(db, 1095);
    let today = app.purge_expired(now(), true).await.unwrap();
    assert_eq!(today.access_tombstones, 0, "a fresh tombstone is kept");
    let later = now() + Duration::days(i64::from(ACCESS_TOMBSTONE_RETENTION_DAYS) + 1);
    let dry = app.purge_expired(later, true).await.unwrap();
    assert_eq!(dry.access_tombstones, 1);
    let done = app.purge_expired(later, false).await.unwrap();
    assert_eq!(done.access_tombstones, 1);
    assert_eq!(
        app.purge_expired(later, true)
            .await
            .unwrap()
            .access_tombstones,
        0
    );
}

async fn expired_account_links_are_purged_and_live_ones_kept(db: &TestDb) {
    let alice = person(db, 702, now()).await;
    let bob = person(db, 703, now()).await;
    let app = app(db, 1095);
    let old = app.issue_account_link(alice.id, now()).await.unwrap();
    let half = app::account_link_lifetime() / 2;
    let live = app.issue_account_link(bob.id, now() + half).await.unwrap();
    let at = old.expires_at;
    assert_eq!(app.purge_expired(at, true).await.unwrap().account_links, 1);
    assert_eq!(app.purge_expired(at, false).await.unwrap().account_links, 1);
    assert_eq!(app.purge_expired(at, true).await.unwrap().account_links, 0);
    let token = live.url.rsplit('/').next().unwrap();
    let owner = app.account_link_owner(token, at).await.unwrap();
    assert_eq!(
        owner.map(|u| u.id),
        Some(bob.id),
        "a live link survives the purge"
    );
}

async fn ended_web_sessions_are_purged_a_day_later_and_live_ones_kept(db: &TestDb) {
    let alice = person(db, 704, now()).await;
    let bob = person(db, 705, now()).await;
    let app = app(db, 1095);
    let (ended, live) = (
        domain::WebSessionToken::generate(),
        domain::WebSessionToken::generate(),
    );
    for (token, user, digest) in [(&ended, alice.id, "a"), (&live, bob.id, "b")] {
        let until = now() + Duration::days(30);
        let hash = token.hash();
        let made = db
            .store
            .create_web_session(&hash, user, digest, now(), until);
        assert!(made.await.unwrap());
    }
    app.web_sign_out(&ended, now()).await.unwrap();
    let soon = now() + Duration::hours(23);
    assert_eq!(app.purge_expired(soon, true).await.unwrap().web_sessions, 0);
    let day = now() + domain::telegram_login::LOGIN_MAX_AGE;
    assert_eq!(app.purge_expired(day, true).await.unwrap().web_sessions, 1);
    assert_eq!(app.purge_expired(day, false).await.unwrap().web_sessions, 1);
    assert_eq!(app.purge_expired(day, true).await.unwrap().web_sessions, 0);
    let owner = app.web_session(live.as_str(), day).await.unwrap();
    assert_eq!(owner, Some(bob.id), "a live session survives the purge");
}

store::backend_tests!(
    people_who_stay_and_people_who_go,
    ended_web_sessions_are_purged_a_day_later_and_live_ones_kept,
    expired_account_links_are_purged_and_live_ones_kept,
    revoked_access_ids_are_forgotten_after_their_own_retention,
    support_tickets_and_bot_updates_follow_their_own_retention,
);

#[test]
fn milly_privacy_purge_prints_counts_and_names_nobody() {
    let dir = tempfile::tempdir().unwrap();
    cli::ok(
        dir.path(),
        &["user", "add", "--telegram-id", "777000111", "--days", "30"],
        &[],
    );
    let dry = cli::ok(dir.path(), &["privacy", "purge", "--dry-run"], &[]);
    assert!(dry.contains("people would erase: 0"), "{dry}");
    let done = cli::ok(dir.path(), &["privacy", "purge"], &[]);
    assert!(done.contains("people erased: 0"), "{done}");
    assert!(!done.contains("777000111") && !dry.contains("777000111"));
    let show = cli::ok(dir.path(), &["user", "show", "777000111"], &[]);
    assert!(show.contains("active"), "an active user survives a purge");
}
