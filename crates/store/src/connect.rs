//! Opening the store: URL parsing and masking, SQLite file creation and pragmas, pools and
//! migrations.

use std::path::Path;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{
    Any, AnyPool, ConnectOptions as _, Connection as _, Executor as _, Row as _, Transaction,
};

use crate::StoreError;

/// How long a caller waits for a pooled connection (and a first connection at start) before the
/// database counts as unreachable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long SQLite waits for another writer before giving up.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 10_000;
const MAX_CONNECTIONS: u32 = 10;
/// How often, and how far apart, a WAL checkpoint after an erasure is tried while readers block it.
const CHECKPOINT_ATTEMPTS: u32 = 5;
const CHECKPOINT_RETRY: Duration = Duration::from_millis(50);

/// Set on every SQLite connection: WAL for concurrent readers, foreign keys so erasure cascades,
/// and secure_delete so erased data does not survive in free pages.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
     PRAGMA secure_delete = ON; PRAGMA synchronous = NORMAL;";

pub(crate) static SQLITE_MIGRATIONS: sqlx::migrate::Migrator =
    sqlx::migrate!("./migrations/sqlite");
pub(crate) static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator =
    sqlx::migrate!("./migrations/postgres");

/// Which SQL dialect the store speaks; differences stay inside the method that needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        })
    }
}

/// milly's persistence: a pool over SQLite or PostgreSQL. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pub(crate) pool: AnyPool,
    pub(crate) backend: Backend,
}

/// The pool's own `Debug` would print connection options; show the dialect only.
impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens the database at `url` and brings its schema up to date.
    ///
    /// `sqlite://path`, `sqlite:path` (the file and its directory are created when missing) and
    /// `postgres://` / `postgresql://` URLs are accepted. Errors name the URL with any password
    /// masked.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let target = Target::parse(url)?;
        let masked = target.masked.clone();
        let unreachable = |err: sqlx::Error| StoreError::Unreachable {
            url: masked.clone(),
            reason: describe_connect_error(&err),
        };

        let options: AnyConnectOptions = target
            .url
            .parse::<AnyConnectOptions>()
            .map_err(|err| StoreError::InvalidUrl {
                url: target.masked.clone(),
                reason: describe_connect_error(&err),
            })?
            .disable_statement_logging();

        let mut pool_options = AnyPoolOptions::new()
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .max_connections(if target.in_memory { 1 } else { MAX_CONNECTIONS });
        if target.backend == Backend::Sqlite {
            pool_options = pool_options.after_connect(|conn, _meta| {
                Box::pin(async move { set_sqlite_pragmas(conn).await })
            });
        }
        if target.in_memory {
            // An in-memory database lives as long as a connection does: keep the only one.
            pool_options = pool_options
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
        }

        // Connect once directly first: the pool would retry until its timeout and then report
        // only "timed out", hiding the reason (refused, unknown host, bad password, ...).
        // The pragmas are the first statements, so they also find files that are no database.
        let mut probe = options.connect().await.map_err(unreachable)?;
        if target.backend == Backend::Sqlite {
            set_sqlite_pragmas(&mut probe).await.map_err(unreachable)?;
        }
        probe.close().await.map_err(unreachable)?;
        let pool = pool_options
            .connect_with(options)
            .await
            .map_err(unreachable)?;

        let migrator = match target.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run(&pool)
            .await
            .map_err(|err| StoreError::Migrate(err.to_string()))?;
        tracing::debug!(backend = ?target.backend, "store opened");
        Ok(Store {
            pool,
            backend: target.backend,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every pooled connection; later calls fail.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A transaction that will write. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`), so a transaction that reads first and writes later never fails with
    /// `SQLITE_BUSY` halfway; on PostgreSQL, transactions that read then write serialize on
    /// the access revision row instead (see `access::bump_revision`).
    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Any>, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// A read-only transaction that sees one consistent snapshot across its statements.
    pub(crate) async fn begin_read(&self) -> Result<Transaction<'static, Any>, StoreError> {
        Ok(match self.backend {
            // A deferred SQLite transaction keeps the snapshot of its first read.
            Backend::Sqlite => self.pool.begin().await?,
            Backend::Postgres => {
                self.pool
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?
            }
        })
    }

    /// After an erasure on SQLite, copies the WAL back into the database and truncates it, so
    /// the erased rows' old page images do not linger in the `-wal` file. A reader holding an
    /// old snapshot blocks the truncation; it is retried a few times, then left to the next
    /// checkpoint (SQLite's automatic one reuses the WAL from its start).
    pub(crate) async fn checkpoint_after_erasure(&self) {
        if self.backend != Backend::Sqlite {
            return;
        }
        for _ in 0..CHECKPOINT_ATTEMPTS {
            let done = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(&self.pool)
                .await;
            match done.and_then(|row| row.try_get::<i64, _>(0)) {
                Ok(0) => return,
                Ok(_busy) => tokio::time::sleep(CHECKPOINT_RETRY).await,
                Err(err) => {
                    tracing::warn!(error = %err, "WAL checkpoint after erasure failed");
                    return;
                }
            }
        }
        tracing::warn!(
            "WAL checkpoint after erasure stayed busy; the next checkpoint completes it"
        );
    }
}

async fn set_sqlite_pragmas(conn: &mut sqlx::AnyConnection) -> Result<(), sqlx::Error> {
    conn.execute(SQLITE_PRAGMAS).await?;
    conn.execute(format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}").as_str())
        .await?;
    Ok(())
}

/// A database URL, checked and normalized.
#[derive(Debug)]
pub(crate) struct Target {
    pub(crate) backend: Backend,
    /// What sqlx is given.
    pub(crate) url: String,
    /// What messages show: the URL with any password replaced by `***`.
    pub(crate) masked: String,
    pub(crate) in_memory: bool,
    /// A SQLite database's file (`None` in memory and on PostgreSQL).
    pub(crate) file: Option<std::path::PathBuf>,
}

impl Target {
    fn parse(url: &str) -> Result<Target, StoreError> {
        Self::parse_with(url, true)
    }

    /// `create`: a SQLite file and its directory are made when missing; otherwise the file
    /// is opened read-only unless the URL says otherwise, and nothing is created.
    pub(crate) fn parse_with(url: &str, create: bool) -> Result<Target, StoreError> {
        let url = url.trim();
        if let Some(rest) = url.strip_prefix("sqlite:") {
            return Self::sqlite(url, rest.strip_prefix("//").unwrap_or(rest), create);
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let parsed = url::Url::parse(url).map_err(|err| StoreError::InvalidUrl {
                url: domain::mask_database_url(url),
                reason: err.to_string(),
            })?;
            let masked = domain::mask_database_url(url);
            if parsed.host_str().is_none_or(str::is_empty) {
                return Err(StoreError::InvalidUrl {
                    url: masked,
                    reason: "no host".into(),
                });
            }
            return Ok(Target {
                backend: Backend::Postgres,
                url: url.to_owned(),
                masked,
                in_memory: false,
                file: None,
            });
        }
        Err(StoreError::InvalidUrl {
            url: domain::mask_database_url(url),
            reason: "use sqlite:PATH or postgres://USER@HOST/DB".into(),
        })
    }

    /// `rest` is what follows `sqlite:` or `sqlite://`: a path, then an optional `?query`.
    fn sqlite(original: &str, rest: &str, create: bool) -> Result<Target, StoreError> {
        let (path, query) = match rest.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (rest, None),
        };
        let masked = original.to_owned();
        let in_memory = path == ":memory:" || query.is_some_and(|q| q.contains("mode=memory"));
        if path.is_empty() && !in_memory {
            return Err(StoreError::InvalidUrl {
                url: masked,
                reason: "no file path".into(),
            });
        }
        let mut query: Vec<String> = query
            .map(|q| {
                q.split('&')
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        if !in_memory {
            let read_only = query.iter().any(|p| p == "mode=ro");
            if !query.iter().any(|p| p.starts_with("mode=")) {
                query.push(if create { "mode=rwc" } else { "mode=ro" }.into());
            }
            if create && !read_only {
                create_parent_dir(path).map_err(|reason| StoreError::Unreachable {
                    url: masked.clone(),
                    reason,
                })?;
            }
        }
        let url = if in_memory {
            "sqlite::memory:".to_owned()
        } else if query.is_empty() {
            format!("sqlite://{path}")
        } else {
            format!("sqlite://{path}?{}", query.join("&"))
        };
        Ok(Target {
            backend: Backend::Sqlite,
            url,
            masked,
            in_memory,
            file: (!in_memory).then(|| std::path::PathBuf::from(path)),
        })
    }
}

fn create_parent_dir(path: &str) -> Result<(), String> {
    match Path::new(path).parent() {
        Some(dir) if !dir.as_os_str().is_empty() && !dir.exists() => std::fs::create_dir_all(dir)
            .map_err(|err| format!("cannot create directory {}: {err}", dir.display())),
        _ => Ok(()),
    }
}

/// One line, without the URL (the caller adds the masked one).
pub(crate) fn describe_connect_error(err: &sqlx::Error) -> String {
    match err {
        sqlx::Error::Io(io) => io.to_string(),
        sqlx::Error::Database(db) => db.message().to_owned(),
        sqlx::Error::PoolTimedOut => "timed out".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_appear_in_masked_urls() {
        let target = Target::parse("postgres://milly:s3cret@db.example:5432/milly").unwrap();
        assert!(!target.masked.contains("s3cret"));
        assert!(target.masked.contains("***"));
        let target = Target::parse("postgres://db/milly?password=s3cret").unwrap();
        assert!(!target.masked.contains("s3cret"));
    }

    #[test]
    fn unparsable_urls_are_masked_whole() {
        let Err(StoreError::InvalidUrl { url, .. }) = Target::parse("postgres://u:s3cret@[::1")
        else {
            panic!("accepted a broken URL");
        };
        assert!(!url.contains("s3cret"));
        let Err(StoreError::InvalidUrl { url, .. }) = Target::parse("mysql://u:s3cret@h/db") else {
            panic!("accepted an unsupported scheme");
        };
        assert!(!url.contains("s3cret"));
    }

    #[test]
    fn sqlite_urls_in_both_spellings_become_read_write_create() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b.db");
        for url in [
            format!("sqlite://{}", path.display()),
            format!("sqlite:{}", path.display()),
        ] {
            let target = Target::parse(&url).unwrap();
            assert_eq!(target.backend, Backend::Sqlite);
            assert_eq!(target.url, format!("sqlite://{}?mode=rwc", path.display()));
        }
        assert!(
            dir.path().join("a").is_dir(),
            "the parent directory is created"
        );
    }

    #[test]
    fn an_explicit_sqlite_mode_is_kept() {
        let target = Target::parse("sqlite://x.db?mode=ro").unwrap();
        assert_eq!(target.url, "sqlite://x.db?mode=ro");
    }

    #[test]
    fn empty_and_unknown_urls_are_refused() {
        assert!(matches!(
            Target::parse("sqlite://"),
            Err(StoreError::InvalidUrl { .. })
        ));
        assert!(matches!(
            Target::parse("file.db"),
            Err(StoreError::InvalidUrl { .. })
        ));
        assert!(matches!(
            Target::parse("postgres:///db"),
            Err(StoreError::InvalidUrl { .. })
        ));
    }
}
