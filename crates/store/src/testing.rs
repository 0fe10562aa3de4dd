//! Throwaway databases for tests (feature `testing`): a SQLite file in a temporary directory, or
//! a freshly created PostgreSQL database on the server named by `MILLY_TEST_POSTGRES_URL`,
//! dropped afterwards, so tests run in parallel.
//!
//! Use [`backend_tests!`](crate::backend_tests) to run each test on both backends; the people and
//! payments tests start from are [`TestDb`]'s own (`user`, `subscriber`, `paid`, ...).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sqlx::{Connection as _, Executor as _};

use crate::Store;

mod fixtures;
pub mod someone;
mod tables;

pub use fixtures::{card_payment, stars_payment};
pub use tables::{every_stored_value, table_names};

/// The PostgreSQL server for tests, e.g. `postgres://postgres@127.0.0.1:5432/test`.
pub const POSTGRES_URL_ENV: &str = "MILLY_TEST_POSTGRES_URL";

/// A store on a database that exists only for one test.
pub struct TestDb {
    pub store: Store,
    /// The URL the store was opened with (another `Store::connect` reaches the same data).
    pub url: String,
    /// Keeps the SQLite directory alive; removed on drop.
    dir: Option<tempfile::TempDir>,
    /// For PostgreSQL: the server URL and the database to drop.
    postgres: Option<(String, String)>,
}

impl TestDb {
    /// A new SQLite database file in a new temporary directory.
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("milly.db").display());
        let store = Store::connect(&url)
            .await
            .expect("open the test SQLite store");
        TestDb {
            store,
            url,
            dir: Some(dir),
            postgres: None,
        }
    }

    /// A new database on the PostgreSQL server at `MILLY_TEST_POSTGRES_URL`. Without that
    /// variable the test is skipped (returns `None`, saying so on stderr) — unless `CI` is set,
    /// where a skipped backend would hide failures, so it panics instead.
    pub async fn postgres() -> Option<TestDb> {
        let server = postgres_server()?;
        sqlx::any::install_default_drivers();
        let name = format!("milly_t_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::AnyConnection::connect(&server)
            .await
            .unwrap_or_else(|err| panic!("cannot reach {POSTGRES_URL_ENV}: {err}"));
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create database");
        admin.close().await.ok();
        let url = with_database(&server, &name);
        let store = Store::connect(&url)
            .await
            .expect("open the test PostgreSQL store");
        Some(TestDb {
            store,
            url,
            dir: None,
            postgres: Some((server, name)),
        })
    }

    /// The SQLite data directory (database, WAL and shared-memory files), if this is SQLite.
    pub fn sqlite_dir(&self) -> Option<&std::path::Path> {
        self.dir.as_ref().map(|d| d.path())
    }
}

/// Drops the PostgreSQL database from a separate thread with its own runtime, since `Drop`
/// cannot await; `WITH (FORCE)` ends the store's still-open connections.
impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((server, name)) = self.postgres.take() else {
            return;
        };
        let dropper = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            let Ok(runtime) = runtime else { return };
            runtime.block_on(async move {
                if let Ok(mut admin) = sqlx::AnyConnection::connect(&server).await {
                    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    if let Err(err) = admin.execute(sql.as_str()).await {
                        eprintln!("could not drop test database {name}: {err}");
                    }
                    admin.close().await.ok();
                }
            });
        });
        dropper.join().ok();
    }
}

/// The PostgreSQL server URL for tests. Without `MILLY_TEST_POSTGRES_URL` it says on stderr that
/// the test is skipped and returns `None` — unless `CI` is set, where a skipped backend would
/// hide failures, so it panics instead.
pub fn postgres_server() -> Option<String> {
    match std::env::var(POSTGRES_URL_ENV) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("{POSTGRES_URL_ENV} is not set, and CI must run the PostgreSQL tests")
        }
        _ => {
            // Straight to stderr, past the test harness's capture, so the skip is seen.
            let line = format!("skipped: PostgreSQL store test ({POSTGRES_URL_ENV} is not set)\n");
            let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
            None
        }
    }
}

/// The store's pool, for tests that inspect the database directly.
pub fn pool(store: &Store) -> &sqlx::AnyPool {
    &store.pool
}

/// `server` with its database path replaced by `database`.
fn with_database(server: &str, database: &str) -> String {
    let mut url = url::Url::parse(server).expect("MILLY_TEST_POSTGRES_URL is a URL");
    url.set_path(&format!("/{database}"));
    url.to_string()
}

/// Runs async test functions `async fn name(db: &TestDb)` once per backend, as
/// `sqlite::name` and `postgres::name`. Put it where the functions are in scope:
///
/// ```ignore
/// store::backend_tests!(creating_a_user_gives_credentials, erasing_removes_everything);
/// ```
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::testing::TestDb::sqlite().await;
                    super::$name(&db).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(db) = $crate::testing::TestDb::postgres().await {
                        super::$name(&db).await;
                    }
                }
            )+
        }
    };
}
