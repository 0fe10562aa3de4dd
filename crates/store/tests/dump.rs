//! Backups' raw material: a dump restores into an empty store of either dialect, whole.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use domain::{Days, Email, Language, NewUser, TelegramId};
use store::testing::{card_payment, table_names, TestDb};
use store::{RestoreError, StoreDump, TABLES};
use time::macros::datetime;
use time::OffsetDateTime;

const NOW: OffsetDateTime = datetime!(2026-04-01 12:00 UTC);

/// Some of everything: people, subscriptions, payments, nodes, trial, tombstones, support, bot.
async fn fill(db: &TestDb) {
    let s = &db.store;
    let new = NewUser {
        telegram_id: TelegramId(42),
        first_name: "Олег".into(),
        last_name: None,
        username: Some("oleg".into()),
        language: Language::Ru,
        consent_at: Some(NOW),
    };
    let a = s.create_user(&new, NOW).await.unwrap();
    let b = db.user(43, NOW).await;
    let gone = db.subscriber(44, "m", 1, NOW).await;
    s.set_email(a.id, Some(&"oleg@example.com".parse::<Email>().unwrap()))
        .await
        .unwrap();
    s.claim_trial("k", a.id, Days(3), NOW).await.unwrap();
    db.paid(&card_payment(b.id, Some("yk"), NOW)).await;
    s.erase_user(gone.id).await.unwrap();
    s.set_blocked(b.id, true).await.unwrap();
    db.tls_node("eu", "EU", "203.0.113.1").await;
    s.open_ticket(a.id, "не работает", NOW).await.unwrap();
    s.set_conversation(a.id, Some("support"), NOW)
        .await
        .unwrap();
    s.claim_update(1, NOW).await.unwrap();
}

/// Rows sorted, so dumps of equal stores compare equal whatever order rows come back in.
fn normalized(mut dump: StoreDump) -> StoreDump {
    for table in &mut dump.tables {
        table
            .rows
            .sort_by_key(|row| serde_json::to_string(row).unwrap());
    }
    dump
}

async fn round_trip(from: &TestDb, to: &TestDb) {
    fill(from).await;
    let dump = from.store.dump().await.unwrap();
    assert_eq!(dump.tables.len(), TABLES.len());
    let json = serde_json::to_string(&dump).unwrap();
    let dump: StoreDump = serde_json::from_str(&json).unwrap();
    to.store.restore(&dump).await.unwrap();
    let restored = normalized(to.store.dump().await.unwrap());
    let expected = normalized(dump.clone());
    for (got, want) in restored.tables.iter().zip(&expected.tables) {
        assert!(got == want, "table {} differs after the restore", want.name);
    }
    assert_eq!(restored.id_high_water, expected.id_high_water);
    assert_eq!(restored, expected);

    // The restored store carries on: ids continue, the access feed continues.
    let revision = to.store.access_revision().await.unwrap();
    assert_eq!(revision, from.store.access_revision().await.unwrap());
    let fresh = to.user(99, NOW).await;
    assert!(
        fresh.id.0 > 3,
        "a new id after the restored ones (and the erased one)"
    );
    to.grant(fresh.id, "m", 5, NOW).await;
    assert!(to.store.access_revision().await.unwrap() > revision);
    let oleg = to
        .store
        .user_by_telegram(TelegramId(42))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(oleg.first_name, "Олег");
    assert_eq!(oleg.email.unwrap().as_str(), "oleg@example.com");
    assert_eq!(to.store.list_payments(None).await.unwrap().len(), 1);

    let again = to.store.restore(&dump).await;
    assert!(matches!(again, Err(RestoreError::NotEmpty)), "{again:?}");
}

async fn a_dump_restores_into_an_empty_store_of_the_same_kind(db: &TestDb) {
    let target = match db.store.backend() {
        store::Backend::Sqlite => TestDb::sqlite().await,
        store::Backend::Postgres => TestDb::postgres().await.unwrap(),
    };
    round_trip(db, &target).await;
}

async fn every_table_of_the_schema_is_in_the_dump(db: &TestDb) {
    let mut tables: Vec<String> = table_names(db)
        .await
        .into_iter()
        .filter(|t| t != "sqlite_sequence")
        .collect();
    tables.sort();
    let mut listed: Vec<String> = TABLES.iter().map(|t| t.to_string()).collect();
    listed.sort();
    assert_eq!(tables, listed, "store::TABLES must name every table");

    let schema = db.store.schema().await.unwrap();
    assert_eq!(schema.len(), TABLES.len());
    let users = &schema.iter().find(|(t, _)| t == "users").unwrap().1;
    for column in [
        "telegram_id",
        "first_name",
        "email",
        "last_seen_at",
        "bot_unreachable",
    ] {
        assert!(
            users.iter().any(|c| c == column),
            "users.{column} in {users:?}"
        );
    }
}

async fn a_backup_from_another_schema_version_is_refused(db: &TestDb) {
    let mut dump = db.store.dump().await.unwrap();
    dump.schema_version += 1;
    let refused = db.store.restore(&dump).await;
    assert!(
        matches!(refused, Err(RestoreError::SchemaMismatch { .. })),
        "{refused:?}"
    );
}

async fn a_backup_naming_an_unknown_table_changes_nothing(db: &TestDb) {
    let source = TestDb::sqlite().await;
    fill(&source).await;
    let mut dump = source.store.dump().await.unwrap();
    dump.tables.push(store::TableDump {
        name: "users; DROP TABLE users".into(),
        columns: vec!["x".into()],
        rows: vec![vec![serde_json::Value::Null]],
    });
    let refused = db.store.restore(&dump).await;
    assert!(
        matches!(refused, Err(RestoreError::UnknownTable(_))),
        "{refused:?}"
    );
    assert!(
        db.store.list_users(0, 10).await.unwrap().is_empty(),
        "rolled back"
    );
}

#[tokio::test]
async fn sqlite_restores_into_postgres_and_back() {
    let Some(pg) = TestDb::postgres().await else {
        return;
    };
    round_trip(&TestDb::sqlite().await, &pg).await;
    let Some(pg) = TestDb::postgres().await else {
        return;
    };
    round_trip(&pg, &TestDb::sqlite().await).await;
}

store::backend_tests!(
    a_dump_restores_into_an_empty_store_of_the_same_kind,
    every_table_of_the_schema_is_in_the_dump,
    a_backup_from_another_schema_version_is_refused,
    a_backup_naming_an_unknown_table_changes_nothing,
);
