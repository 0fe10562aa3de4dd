//! Account links on both backends: a link opens its person's page until it expires, a newer one
//! revokes it, it goes with the person, and the retention purge removes expired ones only.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use domain::{AccountLinkToken, NewUser, TelegramId, UserId};
use store::testing::TestDb;
use store::StoreError;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const NOW: OffsetDateTime = datetime!(2026-12-06 12:00 UTC);
const LIFETIME: Duration = Duration::minutes(15);

async fn person(db: &TestDb, telegram_id: i64) -> UserId {
    let new = NewUser::from_telegram_id(TelegramId(telegram_id));
    db.store.create_user(&new, NOW).await.unwrap().id
}

async fn issue(db: &TestDb, user: UserId, at: OffsetDateTime) -> AccountLinkToken {
    let token = AccountLinkToken::generate();
    db.store
        .issue_account_link(user, &token.hash(), at, at + LIFETIME)
        .await
        .unwrap();
    token
}

async fn owner(db: &TestDb, token: &AccountLinkToken, at: OffsetDateTime) -> Option<UserId> {
    let user = db
        .store
        .account_link_owner(&token.hash(), at)
        .await
        .unwrap();
    user.map(|u| u.id)
}

async fn a_link_opens_its_persons_page_until_it_expires(db: &TestDb) {
    let alice = person(db, 1).await;
    let bob = person(db, 2).await;
    let a = issue(db, alice, NOW).await;
    let b = issue(db, bob, NOW).await;
    assert_eq!(owner(db, &a, NOW).await, Some(alice));
    assert_eq!(owner(db, &b, NOW).await, Some(bob));
    let almost = NOW + LIFETIME - Duration::seconds(1);
    assert_eq!(owner(db, &a, almost).await, Some(alice));
    assert_eq!(owner(db, &a, NOW + LIFETIME).await, None);
    let unknown = AccountLinkToken::generate();
    assert_eq!(owner(db, &unknown, NOW).await, None);
}

async fn only_the_hash_is_stored(db: &TestDb) {
    let alice = person(db, 1).await;
    let token = issue(db, alice, NOW).await;
    let pool = store::testing::pool(&db.store);
    let rows: Vec<(String,)> = sqlx::query_as("SELECT token_hash FROM account_links")
        .fetch_all(pool)
        .await
        .unwrap();
    assert_eq!(rows, vec![(token.hash().as_str().to_owned(),)]);
    assert!(!rows[0].0.contains(token.as_str()));
}

async fn issuing_drops_anyones_expired_links(db: &TestDb) {
    let alice = person(db, 1).await;
    let bob = person(db, 2).await;
    issue(db, alice, NOW).await;
    let later = NOW + Duration::hours(1);
    issue(db, bob, later).await;
    assert_eq!(
        db.store
            .count_expired_account_links(later + LIFETIME)
            .await
            .unwrap(),
        1
    );
}

async fn a_new_link_revokes_the_older_ones(db: &TestDb) {
    let alice = person(db, 1).await;
    let bob = person(db, 2).await;
    let first = issue(db, alice, NOW).await;
    let bobs = issue(db, bob, NOW).await;
    let second = issue(db, alice, NOW + Duration::minutes(1)).await;
    assert_eq!(owner(db, &first, NOW).await, None);
    assert_eq!(owner(db, &second, NOW).await, Some(alice));
    assert_eq!(owner(db, &bobs, NOW).await, Some(bob), "not someone else's");
    assert_eq!(db.store.revoke_account_links(alice).await.unwrap(), 1);
    assert_eq!(owner(db, &second, NOW).await, None);
}

async fn a_link_goes_with_its_person(db: &TestDb) {
    let alice = person(db, 1).await;
    let token = issue(db, alice, NOW).await;
    db.store.erase_user(alice).await.unwrap();
    assert_eq!(owner(db, &token, NOW).await, None);
    assert_eq!(
        db.store
            .count_expired_account_links(NOW + LIFETIME * 2)
            .await
            .unwrap(),
        0,
        "no row is left behind"
    );
    let refused = db
        .store
        .issue_account_link(alice, &token.hash(), NOW, NOW + LIFETIME)
        .await;
    assert!(
        matches!(refused, Err(StoreError::UserNotFound)),
        "{refused:?}"
    );
}

async fn the_purge_removes_expired_links_only(db: &TestDb) {
    let alice = person(db, 1).await;
    let bob = person(db, 2).await;
    let old = issue(db, alice, NOW).await;
    let fresh = issue(db, bob, NOW + Duration::minutes(10)).await;
    let later = NOW + Duration::minutes(20);
    assert_eq!(
        db.store.count_expired_account_links(later).await.unwrap(),
        1
    );
    assert_eq!(db.store.purge_account_links(later).await.unwrap(), 1);
    assert_eq!(
        db.store.count_expired_account_links(later).await.unwrap(),
        0
    );
    assert_eq!(
        owner(db, &old, NOW).await,
        None,
        "purged, whatever the clock"
    );
    assert_eq!(owner(db, &fresh, later).await, Some(bob));
}

store::backend_tests!(
    a_link_opens_its_persons_page_until_it_expires,
    only_the_hash_is_stored,
    issuing_drops_anyones_expired_links,
    a_new_link_revokes_the_older_ones,
    a_link_goes_with_its_person,
    the_purge_removes_expired_links_only,
);
