//! Which migration the database is at, next to the newest this build knows: for `/healthz`,
//! `milly version` and anything that must tell an old schema from a current one.

use sqlx::Row as _;

use crate::connect::{Backend, Store, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
use crate::StoreError;

/// A schema version is the newest migration's number (its timestamp, e.g. 20261207090001).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaVersion {
    /// The newest migration applied to this database; 0 for none.
    pub applied: i64,
    /// The newest migration this build carries for the database's dialect.
    pub known: i64,
}

impl SchemaVersion {
    pub fn is_current(&self) -> bool {
        self.applied == self.known
    }
}

/// The newest migration this build carries for `backend`.
pub fn known_schema_version(backend: Backend) -> i64 {
    let migrator = match backend {
        Backend::Sqlite => &SQLITE_MIGRATIONS,
        Backend::Postgres => &POSTGRES_MIGRATIONS,
    };
    migrator.iter().map(|m| m.version).max().unwrap_or(0)
}

impl Store {
    /// The schema this database is at and the one this build expects (one small query, so it
    /// doubles as a check that the database answers).
    pub async fn schema_version(&self) -> Result<SchemaVersion, StoreError> {
        let row = sqlx::query("SELECT MAX(version) AS v FROM _sqlx_migrations WHERE success = $1")
            .bind(true)
            .fetch_one(&self.pool)
            .await?;
        Ok(SchemaVersion {
            applied: row.try_get::<Option<i64>, _>("v")?.unwrap_or(0),
            known: known_schema_version(self.backend()),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::TestDb;

    async fn a_fresh_store_is_at_the_newest_migration_it_knows(db: &TestDb) {
        let version = db.store.schema_version().await.unwrap();
        assert!(version.known > 20_260_000_000_000, "{version:?}");
        assert!(version.is_current(), "{version:?}");
    }

    crate::backend_tests!(a_fresh_store_is_at_the_newest_migration_it_knows);
}
