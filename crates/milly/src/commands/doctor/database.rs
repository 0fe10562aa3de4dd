//! The database answers and its schema is this build's, read without migrating: `milly serve`
//! would stop at start on an unreachable database, and migrate one that is behind.

use super::Finding;

const CHECK: &str = "database";

pub async fn check(c: &config::Config) -> Vec<Finding> {
    let url = c.database.url.masked();
    let finding = match store::Store::schema_status(c.database.url.expose()).await {
        Err(e) => Finding::fail(
            CHECK,
            format!("{e}; check [database] url and that the database server runs"),
        ),
        Ok(None) => Finding::ok(
            CHECK,
            format!("{url} does not exist yet; `milly serve` creates and migrates it"),
        ),
        Ok(Some(s)) if s.unknown > 0 => Finding::fail(
            CHECK,
            format!(
                "{url} has {} migration(s) this milly does not know: a newer milly ran on it; \
                 run that version",
                s.unknown
            ),
        ),
        Ok(Some(s)) if !s.is_current() => Finding::fail(
            CHECK,
            format!(
                "{} {url}: schema {} of {}; take a backup (`milly backup create`), then \
                 `milly serve` migrates it at start",
                s.backend, s.applied, s.known
            ),
        ),
        Ok(Some(s)) => Finding::ok(
            CHECK,
            format!(
                "{} reachable, schema {} of {}",
                s.backend, s.applied, s.known
            ),
        ),
    };
    vec![finding]
}
