//! The deletion proof (policy 9.1, issue 7 item 5): a person with every kind of data — profile
//! with names, username and email, subscription, payments, support messages, bot bookkeeping —
//! is deleted with `milly user delete`; afterwards no table, no file in the data directory
//! (raw bytes, WAL and shared-memory files included) and no log line holds their Telegram id,
//! names, username, email or support text. Before deletion the same search finds them, so the
//! search itself is proven to work. SQLite files and PostgreSQL tables.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::path::Path;

use domain::{Email, Language, PaymentStatus, UserRef};
use store::testing::someone::{
    self, EMAIL, FIRST, LAST, SUPPORT_REPLY, SUPPORT_TEXT, TELEGRAM_ID, USERNAME,
};
use store::testing::{card_payment, TestDb};
use testkit::milly::cli;
use time::OffsetDateTime;

/// What must be gone, as raw bytes: the text, plus the Telegram id as SQLite stores a 6-byte
/// integer (big-endian), so a database file cannot hide it in binary form.
fn byte_needles() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = someone::traces()
        .into_iter()
        .map(|n| (n.clone(), n.into_bytes()))
        .collect();
    out.push((
        "telegram id as a 6-byte integer".into(),
        TELEGRAM_ID.to_be_bytes()[2..].to_vec(),
    ));
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Gives the person (already created by `milly user add`) every other kind of data.
async fn everything_else(url: &str) {
    let store = store::Store::connect(url).await.unwrap();
    let now = OffsetDateTime::now_utc();
    let user = store
        .find_user(UserRef(TELEGRAM_ID))
        .await
        .unwrap()
        .unwrap();
    store
        .update_profile(user.id, FIRST, Some(LAST), Some(USERNAME), Language::En)
        .await
        .unwrap();
    store
        .set_email(user.id, Some(&EMAIL.parse::<Email>().unwrap()))
        .await
        .unwrap();
    let payment = card_payment(user.id, Some("yk-deletion-proof"), now);
    let pending = store.create_payment(&payment).await.unwrap();
    store
        .settle_payment(pending.id, PaymentStatus::Succeeded, None, now)
        .await
        .unwrap();
    let (ticket, message) = store.open_ticket(user.id, SUPPORT_TEXT, now).await.unwrap();
    store.set_support_relay(message, -100_777, 5).await.unwrap();
    store
        .add_support_message(ticket, true, SUPPORT_REPLY, now)
        .await
        .unwrap();
    store
        .set_conversation(user.id, Some("awaiting:support"), now)
        .await
        .unwrap();
    let ends_at = store.subscription(user.id).await.unwrap().unwrap().ends_at;
    store
        .claim_reminder(user.id, "3d", ends_at, now)
        .await
        .unwrap();
    store.close().await;
}

/// Runs `milly ARGS` at trace level; returns its stdout and stderr together (the logs).
fn milly(dir: &Path, args: &[&str], env: &[(&str, String)]) -> String {
    let mut env = env.to_vec();
    env.push(("RUST_LOG", "trace".into()));
    let r = cli::run(dir, args, &env);
    assert_eq!(r.status, 0, "milly {args:?}: {}\n{}", r.stdout, r.stderr);
    format!("{}\n{}", r.stdout, r.stderr)
}

/// The scenario on the database at `url` (empty: the default SQLite file in `dir`). Returns
/// the logs of every command from the deletion on, and the store's dump afterwards as JSON.
async fn create_export_delete(dir: &Path, url: Option<&str>) -> (String, String) {
    let env: Vec<(&str, String)> = url
        .map(|u| vec![("MILLY_DATABASE__URL", u.to_owned())])
        .unwrap_or_default();
    let id = TELEGRAM_ID.to_string();
    milly(
        dir,
        &["user", "add", "--telegram-id", &id, "--days", "30"],
        &env,
    );
    let db_url = url
        .map(str::to_owned)
        .unwrap_or_else(|| format!("sqlite://{}", dir.join("milly-data/milly.db").display()));
    everything_else(&db_url).await;

    let export = milly(dir, &["user", "export", &id], &env);
    for needle in someone::traces() {
        assert!(
            export.contains(&needle),
            "the export lacks {needle}: the scenario is incomplete"
        );
    }
    let mut logs = milly(dir, &["user", "delete", &id], &env);
    let gone = cli::run(dir, &["user", "show", &id], &env);
    assert_ne!(gone.status, 0, "the user is still there");
    logs.push_str(&gone.stdout);
    logs.push_str(&gone.stderr);
    logs.push_str(&milly(dir, &["user", "list"], &env));

    let store = store::Store::connect(&db_url).await.unwrap();
    let dump = serde_json::to_string(&store.dump().await.unwrap()).unwrap();
    let payments = store.list_payments(None).await.unwrap();
    assert_eq!(
        payments.len(),
        1,
        "the payment record the law requires stays"
    );
    assert!(
        dump.contains("yk-deletion-proof"),
        "...unlinked, with its provider id"
    );
    store.close().await;
    (logs, dump)
}

fn assert_nothing_in(what: &str, haystack: &str) {
    for needle in someone::traces() {
        assert!(!haystack.contains(&needle), "{what} still holds {needle}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_person_on_sqlite_leaves_nothing_in_tables_files_or_logs() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("milly-data");
    let (logs, dump) = create_export_delete(dir.path(), None).await;
    assert_nothing_in("a table", &dump);
    assert_nothing_in("the logs", &logs);
    let files = testkit::files::under(&data).unwrap();
    assert!(files.iter().any(|(name, _)| name.ends_with("milly.db")));
    for (name, bytes) in &files {
        for (what, needle) in byte_needles() {
            assert!(!contains(bytes, &needle), "{name} still holds {what}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn before_deletion_the_same_file_search_finds_the_person() {
    let dir = tempfile::tempdir().unwrap();
    let id = TELEGRAM_ID.to_string();
    milly(
        dir.path(),
        &["user", "add", "--telegram-id", &id, "--days", "30"],
        &[],
    );
    let url = format!(
        "sqlite://{}",
        dir.path().join("milly-data/milly.db").display()
    );
    everything_else(&url).await;
    let files = testkit::files::under(&dir.path().join("milly-data")).unwrap();
    // SQLite keeps the Telegram id as an integer, so its decimal text is not expected here;
    // the 6-byte form stands for it.
    for (what, needle) in byte_needles().into_iter().filter(|(w, _)| *w != id) {
        assert!(
            files.iter().any(|(_, bytes)| contains(bytes, &needle)),
            "the search cannot find {what} even before deletion"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_person_on_postgresql_leaves_nothing_in_tables_or_logs() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (logs, dump) = create_export_delete(dir.path(), Some(&db.url)).await;
    assert_nothing_in("a table", &dump);
    assert_nothing_in("the logs", &logs);
}
