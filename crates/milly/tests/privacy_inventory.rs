//! The data inventory (`domain::inventory`) against the schema the database really has, on
//! SQLite and PostgreSQL: a column nobody classified, or a declared column that does not exist,
//! fails here. And `milly privacy inventory` prints it.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use domain::inventory::{compare_with_schema, ENTRIES, NOT_PERSONAL};
use store::testing::TestDb;
use testkit::milly::cli;

async fn every_column_of_the_schema_is_classified_and_every_declaration_exists(db: &TestDb) {
    let schema = db.store.schema().await.unwrap();
    assert!(schema
        .iter()
        .any(|(t, cols)| t == "users" && !cols.is_empty()));
    let problems = compare_with_schema(&schema);
    assert!(
        problems.is_empty(),
        "the inventory and the {} schema disagree:\n{}",
        db.store.backend(),
        problems.join("\n")
    );
}

async fn a_column_added_to_the_schema_without_a_declaration_is_caught(db: &TestDb) {
    sqlx::query("ALTER TABLE users ADD COLUMN phone TEXT")
        .execute(store::testing::pool(&db.store))
        .await
        .unwrap();
    let problems = compare_with_schema(&db.store.schema().await.unwrap());
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with("users.phone "));
}

store::backend_tests!(
    every_column_of_the_schema_is_classified_and_every_declaration_exists,
    a_column_added_to_the_schema_without_a_declaration_is_caught,
);

#[test]
fn milly_privacy_inventory_prints_every_declared_column() {
    let dir = tempfile::tempdir().unwrap();
    let out = cli::ok(dir.path(), &["privacy", "inventory"], &[]);
    for e in ENTRIES {
        assert!(
            out.contains(&format!("{}.{} ", e.table, e.column)),
            "{}.{}",
            e.table,
            e.column
        );
    }
    for n in NOT_PERSONAL {
        assert!(
            out.contains(&format!("{}.{} ", n.table, n.column)),
            "{}.{}",
            n.table,
            n.column
        );
    }
    assert!(out.contains("1095 days"), "the default retention is shown");
}
