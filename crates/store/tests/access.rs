//! The access feed on both backends: snapshots, changes since a revision, revocations.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use domain::{Days, PlanId, User, VlessUuid};
use store::testing::TestDb;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const NOW: OffsetDateTime = datetime!(2026-04-01 12:00 UTC);

async fn subscriber(db: &TestDb, telegram_id: i64, days: u32) -> (User, VlessUuid) {
    let user = db.subscriber(telegram_id, "month", days, NOW).await;
    let uuid = db.credentials(user.id).await.vless_uuid;
    (user, uuid)
}

/// What changed since `revision`, which the feed still remembers.
async fn changes_since(db: &TestDb, revision: i64) -> store::AccessChanges {
    let changes = db
        .store
        .access_changes_since(revision, usize::MAX)
        .await
        .unwrap();
    changes.expect("the changes since a remembered revision")
}

fn uuids(rows: &[store::AccessRow]) -> Vec<VlessUuid> {
    rows.iter().map(|e| e.vless_uuid).collect()
}

async fn the_snapshot_lists_subscribers_with_their_end(db: &TestDb) {
    let (_, a) = subscriber(db, 1, 30).await;
    let (_, b) = subscriber(db, 2, 60).await;
    db.user(3, NOW).await;
    let snapshot = db.store.access_snapshot().await.unwrap();
    assert_eq!(
        uuids(&snapshot.entries),
        vec![a, b],
        "users without a subscription are left out"
    );
    assert_eq!(snapshot.entries[1].expires_at, NOW + Duration::days(60));
    assert_eq!(snapshot.revision, db.store.access_revision().await.unwrap());
}

async fn blocking_removes_access_and_shows_as_revoked(db: &TestDb) {
    let (user, uuid) = subscriber(db, 1, 30).await;
    let before = db.store.access_revision().await.unwrap();
    db.store.set_blocked(user.id, true).await.unwrap();
    assert!(db.store.access_snapshot().await.unwrap().entries.is_empty());
    let changes = changes_since(db, before).await;
    assert_eq!(changes.revoked, vec![uuid]);
    assert!(changes.upserts.is_empty());
    assert!(changes.revision > before);

    let blocked_at = changes.revision;
    db.store.set_blocked(user.id, false).await.unwrap();
    let changes = changes_since(db, blocked_at).await;
    assert_eq!(uuids(&changes.upserts), vec![uuid]);
    assert_eq!(changes.upserts[0].expires_at, NOW + Duration::days(30));
    assert!(changes.revoked.is_empty());
}

async fn a_grant_appears_in_changes_with_the_new_end(db: &TestDb) {
    let (user, uuid) = subscriber(db, 1, 30).await;
    let before = db.store.access_revision().await.unwrap();
    db.grant(user.id, "month", 30, NOW).await;
    let changes = changes_since(db, before).await;
    assert_eq!(changes.upserts.len(), 1);
    assert_eq!(changes.upserts[0].vless_uuid, uuid);
    assert_eq!(changes.upserts[0].expires_at, NOW + Duration::days(60));
    let nothing = changes_since(db, changes.revision).await;
    assert!(nothing.upserts.is_empty() && nothing.revoked.is_empty());
    assert_eq!(nothing.revision, changes.revision);
}

async fn erasure_and_rotation_revoke_the_old_uuid(db: &TestDb) {
    let (gone, gone_uuid) = subscriber(db, 1, 30).await;
    let (stays, old_uuid) = subscriber(db, 2, 30).await;
    let before = db.store.access_revision().await.unwrap();
    db.store.erase_user(gone.id).await.unwrap();
    let new_uuid = db.store.rotate_vless_uuid(stays.id).await.unwrap();
    assert_ne!(new_uuid, old_uuid);
    let changes = changes_since(db, before).await;
    assert_eq!(changes.revoked, vec![gone_uuid, old_uuid]);
    assert_eq!(uuids(&changes.upserts), vec![new_uuid]);
    assert_eq!(
        uuids(&db.store.access_snapshot().await.unwrap().entries),
        vec![new_uuid]
    );
}

async fn the_revision_only_grows_and_orders_concurrent_changes(db: &TestDb) {
    let mut users = Vec::new();
    for tg in 0..6 {
        users.push(subscriber(db, tg, 30).await.0);
    }
    let start = db.store.access_revision().await.unwrap();
    let tasks: Vec<_> = users
        .iter()
        .map(|u| {
            let store = db.store.clone();
            let id = u.id;
            tokio::spawn(async move {
                store
                    .grant_days(id, PlanId("m".into()), Days(1), NOW)
                    .await
                    .unwrap();
                store.set_blocked(id, true).await.unwrap();
                store.access_revision().await.unwrap()
            })
        })
        .collect();
    let mut seen = Vec::new();
    for task in tasks {
        seen.push(task.await.unwrap());
    }
    let end = db.store.access_revision().await.unwrap();
    assert_eq!(end, start + 12, "each change took exactly one revision");
    assert!(seen.iter().all(|r| *r > start && *r <= end));
    let changes = changes_since(db, start).await;
    assert_eq!(changes.revoked.len(), 6);
    assert!(changes.upserts.is_empty());
}

async fn changes_after_pruned_tombstones_ask_for_a_snapshot(db: &TestDb) {
    let (a, _) = subscriber(db, 1, 30).await;
    let (_, b) = subscriber(db, 2, 30).await;
    let before = db.store.access_revision().await.unwrap();
    db.store.erase_user(a.id).await.unwrap();
    let after_erase = db.store.access_revision().await.unwrap();
    assert_eq!(
        db.store
            .prune_access_tombstones(OffsetDateTime::now_utc() - Duration::hours(1))
            .await
            .unwrap(),
        0
    );
    assert!(db
        .store
        .access_changes_since(before, usize::MAX)
        .await
        .unwrap()
        .is_some());
    let pruned = db
        .store
        .prune_access_tombstones(OffsetDateTime::now_utc() + Duration::minutes(1))
        .await;
    assert_eq!(pruned.unwrap(), 1);
    assert_eq!(
        db.store
            .access_changes_since(before, usize::MAX)
            .await
            .unwrap(),
        None
    );
    let current = changes_since(db, after_erase).await;
    assert!(current.revoked.is_empty());
    assert_eq!(
        uuids(&db.store.access_snapshot().await.unwrap().entries),
        vec![b]
    );
}

async fn a_revision_from_the_future_asks_for_a_snapshot(db: &TestDb) {
    subscriber(db, 1, 30).await;
    let now = db.store.access_revision().await.unwrap();
    assert_eq!(
        db.store
            .access_changes_since(now + 1, usize::MAX)
            .await
            .unwrap(),
        None
    );
    let all = changes_since(db, 0).await;
    assert_eq!(all.upserts.len(), 1);
}

/// Every page of a paged snapshot, read `limit` at a time, with each page's length.
async fn read_pages(
    pages: &mut store::AccessSnapshotPages,
    limit: usize,
) -> (Vec<store::AccessRow>, Vec<usize>) {
    let (mut entries, mut lengths) = (Vec::new(), Vec::new());
    loop {
        let page = pages.next_page(limit).await.unwrap();
        lengths.push(page.len());
        if page.is_empty() {
            return (entries, lengths);
        }
        entries.extend(page);
    }
}

async fn a_snapshot_read_in_pages_holds_everyone_once_in_order(db: &TestDb) {
    let mut expected = Vec::new();
    for telegram_id in 1..=7 {
        expected.push(subscriber(db, telegram_id, 30).await.1);
    }
    let (blocked, _) = subscriber(db, 8, 30).await;
    db.store.set_blocked(blocked.id, true).await.unwrap();
    db.user(9, NOW).await;

    let mut pages = db.store.access_snapshot_pages().await.unwrap();
    assert_eq!(
        pages.total(),
        7,
        "blocked users and users without access are not counted"
    );
    assert_eq!(pages.revision(), db.store.access_revision().await.unwrap());
    let (entries, lengths) = read_pages(&mut pages, 3).await;
    assert_eq!(
        lengths,
        [3, 3, 1, 0],
        "full pages, a short last one, then nothing"
    );
    assert_eq!(uuids(&entries), expected);
    assert_eq!(entries, db.store.access_snapshot().await.unwrap().entries);
    assert!(
        pages.next_page(3).await.unwrap().is_empty(),
        "stays finished"
    );

    // A page boundary on the last entry: one more (empty) page says it is over.
    let mut pages = db.store.access_snapshot_pages().await.unwrap();
    let (entries, lengths) = read_pages(&mut pages, 7).await;
    assert_eq!((entries.len(), lengths), (7, vec![7, 0]));

    // A stretch of users without access, longer than a page, is skipped, not an early end.
    for telegram_id in 10..=15 {
        let (user, _) = subscriber(db, telegram_id, 30).await;
        db.store.set_blocked(user.id, true).await.unwrap();
    }
    let last = subscriber(db, 16, 30).await.1;
    let mut pages = db.store.access_snapshot_pages().await.unwrap();
    let (entries, lengths) = read_pages(&mut pages, 2).await;
    assert_eq!(lengths, [2, 2, 2, 1, 1, 0]);
    assert_eq!(entries.last().map(|e| e.vless_uuid), Some(last));
    assert_eq!(pages.total(), 8);
}

async fn pages_keep_their_revision_while_the_store_changes(db: &TestDb) {
    let mut users = Vec::new();
    for telegram_id in 1..=6 {
        users.push(subscriber(db, telegram_id, 30).await);
    }
    let before = db.store.access_snapshot().await.unwrap();
    let mut pages = db.store.access_snapshot_pages().await.unwrap();
    let mut entries = pages.next_page(2).await.unwrap();

    // Between pages: someone on a later page is blocked, someone else gets more days, and a
    // newcomer arrives. None of it belongs to the revision the pages were started at.
    db.store.set_blocked(users[4].0.id, true).await.unwrap();
    db.store
        .grant_days(users[3].0.id, PlanId("month".into()), Days(10), NOW)
        .await
        .unwrap();
    subscriber(db, 7, 30).await;
    assert!(db.store.access_revision().await.unwrap() > pages.revision());

    entries.extend(read_pages(&mut pages, 2).await.0);
    assert_eq!(pages.revision(), before.revision);
    assert_eq!(
        entries, before.entries,
        "the pages are the table as of their revision"
    );
    assert_eq!(pages.total(), 6);
    // What happened meanwhile is what a node asks for next.
    let changes = changes_since(db, pages.revision()).await;
    assert_eq!(changes.revoked, vec![users[4].1]);
    assert_eq!(changes.upserts.len(), 2);
}

async fn more_changes_than_the_caller_takes_ask_for_a_snapshot(db: &TestDb) {
    let before = db.store.access_revision().await.unwrap();
    let (blocked, _) = subscriber(db, 1, 30).await;
    subscriber(db, 2, 30).await;
    db.store.erase_user(blocked.id).await.unwrap();
    // One credential changed (user 2) and one was revoked (user 1's tombstone).
    let at_most = |n| db.store.access_changes_since(before, n);
    assert_eq!(
        at_most(1).await.unwrap(),
        None,
        "two changes do not fit in one"
    );
    let changes = at_most(2).await.unwrap().expect("two changes fit in two");
    assert_eq!((changes.upserts.len(), changes.revoked.len()), (1, 1));
    assert_eq!(at_most(0).await.unwrap(), None);
}

store::backend_tests!(
    more_changes_than_the_caller_takes_ask_for_a_snapshot,
    a_snapshot_read_in_pages_holds_everyone_once_in_order,
    pages_keep_their_revision_while_the_store_changes,
    the_snapshot_lists_subscribers_with_their_end,
    blocking_removes_access_and_shows_as_revoked,
    a_grant_appears_in_changes_with_the_new_end,
    erasure_and_rotation_revoke_the_old_uuid,
    the_revision_only_grows_and_orders_concurrent_changes,
    changes_after_pruned_tombstones_ask_for_a_snapshot,
    a_revision_from_the_future_asks_for_a_snapshot,
);
