//! Persistence for milly over sqlx: one code path for SQLite (default) and PostgreSQL.
