//! Opening stores: file creation, pragmas, and clear errors for bad or unreachable databases.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::time::{Duration, Instant};

use domain::{NewUser, TelegramId};
use sqlx::Row as _;
use store::testing::TestDb;
use store::{Backend, Store, StoreError};

#[tokio::test]
async fn a_missing_sqlite_file_and_directory_are_created_in_both_url_spellings() {
    let dir = tempfile::tempdir().unwrap();
    for (i, prefix) in ["sqlite://", "sqlite:"].into_iter().enumerate() {
        let path = dir.path().join(format!("nested{i}/deeper/milly.db"));
        let store = Store::connect(&format!("{prefix}{}", path.display()))
            .await
            .unwrap();
        assert_eq!(store.backend(), Backend::Sqlite);
        assert!(path.is_file());
    }
}

#[tokio::test]
async fn data_written_survives_reopening_the_sqlite_file() {
    let db = TestDb::sqlite().await;
    let user = db
        .store
        .create_user(
            &NewUser::from_telegram_id(TelegramId(5)),
            time::OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
    db.store.close().await;
    let again = Store::connect(&db.url).await.unwrap();
    assert_eq!(
        again
            .user_by_telegram(TelegramId(5))
            .await
            .unwrap()
            .map(|u| u.id),
        Some(user.id)
    );
}

#[tokio::test]
async fn sqlite_connections_use_wal_foreign_keys_and_secure_delete() {
    let db = TestDb::sqlite().await;
    let pool = store::testing::pool(&db.store);
    for (pragma, expected) in [
        ("journal_mode", "wal"),
        ("foreign_keys", "1"),
        ("secure_delete", "1"),
    ] {
        let row = sqlx::query(&format!("PRAGMA {pragma}"))
            .fetch_one(pool)
            .await
            .unwrap();
        let value = row
            .try_get::<String, _>(0)
            .or_else(|_| row.try_get::<i64, _>(0).map(|v| v.to_string()))
            .unwrap();
        assert_eq!(value, expected, "PRAGMA {pragma}");
    }
}

#[tokio::test]
async fn unsupported_urls_are_refused_with_one_line_and_no_password() {
    for url in [
        "mysql://root:hunter2@localhost/db",
        "hunter2",
        "postgres://u:hunter2@[::1",
    ] {
        let err = Store::connect(url).await.unwrap_err();
        let message = err.to_string();
        assert!(
            matches!(err, StoreError::InvalidUrl { .. }),
            "{url}: {message}"
        );
        assert!(
            !message.contains("hunter2") && !message.contains('\n'),
            "{message}"
        );
    }
}

#[tokio::test]
async fn an_unreachable_postgres_is_a_clear_error_without_the_password() {
    // Port 1 on loopback: nothing listens there.
    let started = Instant::now();
    let err = Store::connect("postgres://milly:hunter2@127.0.0.1:1/milly")
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, StoreError::Unreachable { .. }), "{message}");
    assert!(message.contains("127.0.0.1:1"), "{message}");
    assert!(message.to_lowercase().contains("refused"), "{message}");
    assert!(
        !message.contains("hunter2") && !message.contains('\n'),
        "{message}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn an_sqlite_path_that_cannot_be_created_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, b"not a directory").unwrap();
    let err = Store::connect(&format!("sqlite://{}/sub/milly.db", blocker.display()))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unreachable { .. }), "{err}");
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.db");
    std::fs::write(&path, vec![b'x'; 8192]).unwrap();
    let started = Instant::now();
    let err = Store::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unreachable { .. }), "{err}");
    assert!(err.to_string().contains("not a database"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "no retrying until a timeout"
    );
}

#[tokio::test]
async fn a_missing_postgres_database_is_a_clear_error() {
    let Some(server) = store::testing::postgres_server() else {
        return;
    };
    let mut url = url::Url::parse(&server).unwrap();
    url.set_path("/milly_no_such_database");
    let err = Store::connect(url.as_str()).await.unwrap_err();
    assert!(matches!(err, StoreError::Unreachable { .. }), "{err}");
    assert!(err.to_string().contains("milly_no_such_database"), "{err}");
}

#[tokio::test]
async fn an_in_memory_sqlite_store_works_for_quick_tests() {
    let store = Store::connect("sqlite::memory:").await.unwrap();
    let now = time::OffsetDateTime::now_utc();
    let user = store
        .create_user(&NewUser::from_telegram_id(TelegramId(8)), now)
        .await
        .unwrap();
    assert_eq!(
        store.user(user.id).await.unwrap().map(|u| u.telegram_id),
        Some(TelegramId(8))
    );
}

#[tokio::test]
async fn postgresql_is_accepted_as_a_scheme_too() {
    let Some(server) = store::testing::postgres_server() else {
        return;
    };
    let url = server.replacen("postgres://", "postgresql://", 1);
    let store = Store::connect(&url).await.unwrap();
    assert_eq!(store.backend(), Backend::Postgres);
}
