//! A logical copy of the whole store, for backups: read in one consistent snapshot, restorable
//! into an empty store of either dialect (SQLite → PostgreSQL and back).
//!
//! The copy lists every table by name, so [`TABLES`] must name every table the migrations
//! create; a test fails when one is missing. Values are integers, text or null — the only
//! kinds the schema uses.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::{Any, Column as _, Row as _, Transaction};

use crate::{Backend, Store, StoreError};

/// Every table, parents before children, so rows restore in this order without breaking a
/// foreign key.
pub const TABLES: &[&str] = &[
    "meta",
    "users",
    "subscriptions",
    "credentials",
    "promo_codes",
    "payments",
    "promo_redemptions",
    "auto_renewals",
    "stars_subscriptions",
    "nodes",
    "node_join_tokens",
    "node_status",
    "node_alerts",
    "control_plane",
    "trial_claims",
    "access_tombstones",
    "bot_updates",
    "reminders_sent",
    "conversations",
    "support_tickets",
    "support_messages",
    "account_links",
    "admin_login_tokens",
    "admin_sessions",
    "admin_audit",
    "broadcasts",
    "web_sessions",
    "referral_codes",
    "referrals",
    "referral_claims",
    "gifts",
];

/// Tables whose `id` is generated: after a restore PostgreSQL must continue after the highest.
const GENERATED_IDS: &[&str] = &[
    "users",
    "payments",
    "promo_codes",
    "nodes",
    "support_tickets",
    "support_messages",
    "admin_audit",
    "broadcasts",
];

/// Bumped when the layout of [`StoreDump`] itself changes.
pub const DUMP_FORMAT: u32 = 1;

/// Everything in the store. Personal data: keep it encrypted (see `milly backup`).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreDump {
    pub format: u32,
    /// The newest migration applied to the source; a dump restores only into the same schema.
    pub schema_version: i64,
    pub tables: Vec<TableDump>,
    /// The highest id ever generated per table, erased rows included, so a restored store
    /// never hands an erased person's id to someone else.
    pub id_high_water: BTreeMap<String, i64>,
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct TableDump {
    pub name: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

/// A dump is personal data: `{:?}` shows only its shape.
impl std::fmt::Debug for StoreDump {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rows: usize = self.tables.iter().map(|t| t.rows.len()).sum();
        f.debug_struct("StoreDump")
            .field("format", &self.format)
            .field("schema_version", &self.schema_version)
            .field("tables", &self.tables.len())
            .field("rows", &rows)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("the target store is not empty; restore only into a new, empty database")]
    NotEmpty,
    #[error("the backup has format {0}, this build reads format {DUMP_FORMAT}")]
    UnknownFormat(u32),
    #[error("the backup's schema version {backup} differs from this store's {store}")]
    SchemaMismatch { backup: i64, store: i64 },
    #[error("the backup has an unknown table or column: {0}")]
    UnknownTable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn value_at(row: &AnyRow, i: usize) -> Result<Value, StoreError> {
    if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
        return Ok(v.map_or(Value::Null, Value::from));
    }
    let v: Option<String> = row.try_get(i)?;
    Ok(v.map_or(Value::Null, Value::from))
}

async fn schema_version(tx: &mut Transaction<'static, Any>) -> Result<i64, StoreError> {
    let row = sqlx::query("SELECT MAX(version) AS v FROM _sqlx_migrations WHERE success = $1")
        .bind(true)
        .fetch_one(&mut **tx)
        .await?;
    Ok(row.try_get::<Option<i64>, _>("v")?.unwrap_or(0))
}

impl Store {
    /// Reads the whole store in one consistent snapshot.
    pub async fn dump(&self) -> Result<StoreDump, StoreError> {
        let mut tx = self.begin_read().await?;
        let schema_version = schema_version(&mut tx).await?;
        let mut tables = Vec::with_capacity(TABLES.len());
        for &name in TABLES {
            let rows = sqlx::query(&format!("SELECT * FROM {name}"))
                .fetch_all(&mut *tx)
                .await?;
            let columns = match rows.first() {
                Some(row) => row.columns().iter().map(|c| c.name().to_owned()).collect(),
                None => Vec::new(),
            };
            let rows = rows
                .iter()
                .map(|row| (0..row.len()).map(|i| value_at(row, i)).collect())
                .collect::<Result<_, StoreError>>()?;
            tables.push(TableDump {
                name: name.to_owned(),
                columns,
                rows,
            });
        }
        let mut id_high_water = BTreeMap::new();
        for &table in GENERATED_IDS {
            id_high_water.insert(
                table.to_owned(),
                high_water(&mut tx, self.backend, table).await?,
            );
        }
        tx.commit().await?;
        Ok(StoreDump {
            format: DUMP_FORMAT,
            schema_version,
            tables,
            id_high_water,
        })
    }

    /// Every table and its columns as the database itself reports them, in [`TABLES`] order:
    /// what a data-inventory test compares its declarations with.
    pub async fn schema(&self) -> Result<Vec<(String, Vec<String>)>, StoreError> {
        let mut tx = self.begin_read().await?;
        let mut schema = Vec::with_capacity(TABLES.len());
        for &table in TABLES {
            let declared = columns(&mut tx, self.backend, table).await?;
            schema.push((table.to_owned(), names_where(&declared, any_type)));
        }
        tx.commit().await?;
        Ok(schema)
    }

    /// Restores `dump` into this store, which must be empty (freshly created), in one
    /// transaction: either everything is restored or nothing is.
    pub async fn restore(&self, dump: &StoreDump) -> Result<(), RestoreError> {
        if dump.format != DUMP_FORMAT {
            return Err(RestoreError::UnknownFormat(dump.format));
        }
        let mut tx = self.begin_write().await?;
        let store = schema_version(&mut tx).await?;
        if store != dump.schema_version {
            return Err(RestoreError::SchemaMismatch {
                backup: dump.schema_version,
                store,
            });
        }
        for table in ["users", "payments", "nodes", "trial_claims"] {
            let row = sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
                .fetch_one(&mut *tx)
                .await
                .map_err(StoreError::from)?;
            if row.try_get::<i64, _>("n").map_err(StoreError::from)? > 0 {
                return Err(RestoreError::NotEmpty);
            }
        }
        // The counters a fresh store seeds, and an identity a fresh `milly serve` made, are
        // replaced by the backup's.
        for table in ["meta", "control_plane"] {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from)?;
        }
        for table in &dump.tables {
            restore_table(&mut tx, self.backend, table).await?;
        }
        // Revisions after a restore repeat numbers the nodes already saw with other contents:
        // a new epoch makes every node start from a snapshot.
        sqlx::query("UPDATE control_plane SET feed_epoch = $1")
            .bind(uuid::Uuid::new_v4().simple().to_string())
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?;
        for &table in GENERATED_IDS {
            let recorded = dump.id_high_water.get(table).copied().unwrap_or(0);
            set_high_water(&mut tx, self.backend, table, recorded).await?;
        }
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }
}

/// Inserts one table's rows. Table and column names come from the backup file, so they are
/// checked against the known tables and the target's own columns before use in SQL.
async fn restore_table(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    table: &TableDump,
) -> Result<(), RestoreError> {
    if !TABLES.contains(&table.name.as_str()) {
        return Err(RestoreError::UnknownTable(table.name.clone()));
    }
    if table.rows.is_empty() {
        return Ok(());
    }
    let declared = columns(tx, backend, &table.name).await?;
    let integer_columns = names_where(&declared, integer_type);
    let known = names_where(&declared, any_type);
    if let Some(bad) = table.columns.iter().find(|c| !known.contains(c)) {
        return Err(RestoreError::UnknownTable(format!("{}.{bad}", table.name)));
    }
    let placeholders: Vec<String> = (1..=table.columns.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({})",
        table.name,
        table.columns.join(", "),
        placeholders.join(", ")
    );
    for row in &table.rows {
        if row.len() != table.columns.len() {
            return Err(RestoreError::UnknownTable(format!(
                "{} (row width)",
                table.name
            )));
        }
        let mut query = sqlx::query(&sql);
        for (value, column) in row.iter().zip(&table.columns) {
            let integer = integer_columns.contains(column);
            query = match value {
                Value::Null if integer => query.bind(None::<i64>),
                Value::Null => query.bind(None::<String>),
                Value::Number(n) => query.bind(n.as_i64().ok_or_else(|| {
                    RestoreError::UnknownTable(format!("{}.{column} (not an integer)", table.name))
                })?),
                Value::String(s) => query.bind(s.clone()),
                _ => {
                    return Err(RestoreError::UnknownTable(format!(
                        "{}.{column} (unexpected value)",
                        table.name
                    )))
                }
            };
        }
        query.execute(&mut **tx).await.map_err(StoreError::from)?;
    }
    Ok(())
}

/// The highest id `table` ever generated (0 if none).
async fn high_water(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    table: &str,
) -> Result<i64, StoreError> {
    let row =
        match backend {
            Backend::Sqlite => {
                sqlx::query("SELECT seq AS n FROM sqlite_sequence WHERE name = $1")
                    .bind(table)
                    .fetch_optional(&mut **tx)
                    .await?
            }
            Backend::Postgres => sqlx::query(
                "SELECT pg_sequence_last_value(pg_get_serial_sequence($1, 'id')::regclass) AS n",
            )
            .bind(table)
            .fetch_optional(&mut **tx)
            .await?,
        };
    Ok(match row {
        Some(row) => row.try_get::<Option<i64>, _>("n")?.unwrap_or(0),
        None => 0,
    })
}

/// Makes `table` generate ids above both `recorded` and every id it now holds. `table` is one
/// of [`GENERATED_IDS`], never input.
async fn set_high_water(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    table: &str,
    recorded: i64,
) -> Result<(), StoreError> {
    let row = sqlx::query(&format!("SELECT COALESCE(MAX(id), 0) AS n FROM {table}"))
        .fetch_one(&mut **tx)
        .await?;
    let high = recorded.max(row.try_get("n")?);
    match backend {
        Backend::Sqlite => {
            sqlx::query("DELETE FROM sqlite_sequence WHERE name = $1")
                .bind(table)
                .execute(&mut **tx)
                .await?;
            sqlx::query("INSERT INTO sqlite_sequence (name, seq) VALUES ($1, $2)")
                .bind(table)
                .bind(high)
                .execute(&mut **tx)
                .await?;
        }
        Backend::Postgres => {
            // `is_called = true` reads back as the high-water mark; a sequence starts at 1.
            sqlx::query("SELECT setval(pg_get_serial_sequence($1, 'id'), $2, $3)")
                .bind(table)
                .bind(high.max(1))
                .bind(high > 0)
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(())
}

/// The names of `columns` (name, declared type) whose type `keep` accepts.
fn names_where(columns: &[(String, String)], keep: fn(&str) -> bool) -> Vec<String> {
    columns
        .iter()
        .filter(|(_, ty)| keep(ty))
        .map(|(name, _)| name.clone())
        .collect()
}

fn any_type(_: &str) -> bool {
    true
}

fn integer_type(ty: &str) -> bool {
    ty.to_ascii_lowercase().contains("int")
}

/// The target's columns and their declared types.
async fn columns(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    table: &str,
) -> Result<Vec<(String, String)>, StoreError> {
    let rows = match backend {
        Backend::Sqlite => {
            sqlx::query("SELECT name, type FROM pragma_table_info($1)")
                .bind(table)
                .fetch_all(&mut **tx)
                .await?
        }
        Backend::Postgres => {
            sqlx::query(
                "SELECT column_name::text AS name, data_type::text AS type \
                 FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1",
            )
            .bind(table)
            .fetch_all(&mut **tx)
            .await?
        }
    };
    rows.iter()
        .map(|row| Ok((row.try_get("name")?, row.try_get("type")?)))
        .collect()
}
