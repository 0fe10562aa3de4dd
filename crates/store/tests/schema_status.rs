//! `Store::schema_status`: what `milly doctor` reports of a database, on both backends.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use store::testing::{pool, TestDb};
use store::Store;

async fn a_migrated_database_is_current_until_a_migration_goes_missing(db: &TestDb) {
    let status = Store::schema_status(&db.url).await.unwrap().unwrap();
    assert!(status.is_current(), "{status:?}");
    assert_eq!(status.backend, db.store.backend());
    sqlx::query(
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)",
    )
    .execute(pool(&db.store))
    .await
    .unwrap();
    let behind = Store::schema_status(&db.url).await.unwrap().unwrap();
    assert_eq!(behind.applied, status.known - 1);
    assert!(!behind.is_current());
}

async fn a_migration_this_build_does_not_know_is_counted(db: &TestDb) {
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         SELECT 99991231000000, 'from a newer milly', success, checksum, execution_time \
         FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)",
    )
    .execute(pool(&db.store))
    .await
    .unwrap();
    let status = Store::schema_status(&db.url).await.unwrap().unwrap();
    assert_eq!(status.unknown, 1);
    assert_eq!(status.applied, status.known);
    assert!(!status.is_current());
}

store::backend_tests!(
    a_migrated_database_is_current_until_a_migration_goes_missing,
    a_migration_this_build_does_not_know_is_counted
);
