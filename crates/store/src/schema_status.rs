//! Whether a database's schema is the one this build knows, read without changing anything:
//! `milly doctor` asks before `milly serve` would migrate.

use std::collections::BTreeSet;

use sqlx::any::AnyConnectOptions;
use sqlx::{ConnectOptions as _, Connection as _, Row as _};

use crate::connect::{describe_connect_error, Target, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
use crate::{Backend, Store, StoreError};

/// Applied migrations against the ones this build carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaStatus {
    pub backend: Backend,
    /// Migrations of this build found applied.
    pub applied: usize,
    /// Migrations this build carries.
    pub known: usize,
    /// Applied migrations this build does not know (a newer milly ran on this database).
    pub unknown: usize,
}

impl SchemaStatus {
    /// Every migration of this build applied, and none from elsewhere.
    pub fn is_current(&self) -> bool {
        self.applied == self.known && self.unknown == 0
    }
}

impl Store {
    /// Connects to `url` once, reads which migrations are applied and disconnects; creates,
    /// migrates and writes nothing. `Ok(None)`: a SQLite file that does not exist yet.
    pub async fn schema_status(url: &str) -> Result<Option<SchemaStatus>, StoreError> {
        sqlx::any::install_default_drivers();
        let target = Target::parse_with(url, false)?;
        if target.file.as_ref().is_some_and(|f| !f.exists()) {
            return Ok(None);
        }
        let unreachable = |err: sqlx::Error| StoreError::Unreachable {
            url: target.masked.clone(),
            reason: describe_connect_error(&err),
        };
        let options = target
            .url
            .parse::<AnyConnectOptions>()
            .map_err(|err| StoreError::InvalidUrl {
                url: target.masked.clone(),
                reason: describe_connect_error(&err),
            })?
            .disable_statement_logging();
        let mut conn = options.connect().await.map_err(unreachable)?;
        let (table_query, migrator) = match target.backend {
            Backend::Sqlite => (
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' \
                 AND name = '_sqlx_migrations'",
                &SQLITE_MIGRATIONS,
            ),
            Backend::Postgres => (
                "SELECT COUNT(*) FROM information_schema.tables \
                 WHERE table_name = '_sqlx_migrations' AND table_schema = current_schema()",
                &POSTGRES_MIGRATIONS,
            ),
        };
        let tables: i64 = sqlx::query(table_query)
            .fetch_one(&mut conn)
            .await
            .and_then(|row| row.try_get(0))
            .map_err(unreachable)?;
        let applied: BTreeSet<i64> = if tables == 0 {
            BTreeSet::new()
        } else {
            sqlx::query("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&mut conn)
                .await
                .map_err(unreachable)?
                .iter()
                .map(|row| row.try_get::<i64, _>(0))
                .collect::<Result<_, _>>()
                .map_err(unreachable)?
        };
        conn.close().await.map_err(unreachable)?;
        let known: BTreeSet<i64> = migrator.iter().map(|m| m.version).collect();
        Ok(Some(SchemaStatus {
            backend: target.backend,
            applied: applied.intersection(&known).count(),
            known: known.len(),
            unknown: applied.difference(&known).count(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_missing_file_is_none_and_is_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/milly.db");
        let url = format!("sqlite://{}", path.display());
        assert_eq!(Store::schema_status(&url).await.unwrap(), None);
        assert!(!path.exists() && !path.parent().unwrap().exists());
    }

    #[tokio::test]
    async fn an_empty_database_has_nothing_applied_and_a_migrated_one_everything() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("milly.db");
        std::fs::write(&path, b"").unwrap();
        let url = format!("sqlite://{}", path.display());
        let empty = Store::schema_status(&url).await.unwrap().unwrap();
        assert_eq!(empty.applied, 0);
        assert!(empty.known > 0 && !empty.is_current());
        Store::connect(&url).await.unwrap().close().await;
        let migrated = Store::schema_status(&url).await.unwrap().unwrap();
        assert!(migrated.is_current(), "{migrated:?}");
        assert_eq!(migrated.applied, empty.known);
    }
}
