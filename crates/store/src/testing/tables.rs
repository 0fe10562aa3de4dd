//! What a test sees when it reads the database directly: every table and every value in it.

use sqlx::{Column as _, Row as _};

use super::{pool, TestDb};
use crate::Backend;

/// Every table of the schema but sqlx's own migration bookkeeping (schema checksums, no data
/// about anyone).
pub async fn table_names(db: &TestDb) -> Vec<String> {
    let sql = match db.store.backend() {
        Backend::Sqlite => "SELECT name AS t FROM sqlite_master WHERE type = 'table'",
        Backend::Postgres => {
            "SELECT table_name::text AS t FROM information_schema.tables \
             WHERE table_schema = current_schema()"
        }
    };
    let tables: Vec<String> = sqlx::query(sql)
        .fetch_all(pool(&db.store))
        .await
        .expect("list the tables")
        .iter()
        .map(|row| row.get("t"))
        .filter(|t: &String| t != "_sqlx_migrations")
        .collect();
    assert!(tables.len() >= 8, "found the tables: {tables:?}");
    tables
}

/// Every value in every table of [`table_names`], as text, with where it is (`table.column`).
pub async fn every_stored_value(db: &TestDb) -> Vec<(String, String)> {
    let mut values = Vec::new();
    for table in table_names(db).await {
        for row in sqlx::query(&format!("SELECT * FROM {table}"))
            .fetch_all(pool(&db.store))
            .await
            .expect("read a table")
        {
            for column in row.columns() {
                let i = column.ordinal();
                let text = row
                    .try_get::<Option<String>, _>(i)
                    .or_else(|_| {
                        row.try_get::<Option<i64>, _>(i)
                            .map(|v| v.map(|v| v.to_string()))
                    })
                    .or_else(|_| {
                        row.try_get::<Option<i32>, _>(i)
                            .map(|v| v.map(|v| v.to_string()))
                    })
                    .or_else(|_| {
                        row.try_get::<Option<i16>, _>(i)
                            .map(|v| v.map(|v| v.to_string()))
                    })
                    .expect("a value as text or a number");
                if let Some(text) = text {
                    values.push((format!("{table}.{}", column.name()), text));
                }
            }
        }
    }
    values
}
