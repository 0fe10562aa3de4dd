//! `milly version`: the build and the schema version it migrates a database to.

use store::{known_schema_version, Backend};

use crate::build_info;

pub fn run() {
    println!("milly {}", build_info::describe());
    println!(
        "schema: {} (SQLite), {} (PostgreSQL)",
        known_schema_version(Backend::Sqlite),
        known_schema_version(Backend::Postgres)
    );
}
