//! The background jobs `milly serve` runs for the privacy policy, driven as serve drives them
//! (a task and a shutdown token): the retention job erases a backdated person and stops on
//! shutdown; scheduled backups write an encrypted file into `[backup] dir` and rotate out
//! backups beyond `keep` and older than the window.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::time::Duration;

use domain::{Language, NewUser, TelegramId};
use store::testing::TestDb;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

/// How long a job may take to do its first run, and to stop after shutdown.
const JOB_DEADLINE: Duration = Duration::from_secs(10);

async fn until<F, Fut>(mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = std::time::Instant::now();
    while !done().await {
        assert!(
            start.elapsed() < JOB_DEADLINE,
            "the job did not run in time"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn the_retention_job_erases_people_past_retention_and_stops_on_shutdown(db: &TestDb) {
    let long_ago = OffsetDateTime::now_utc() - time::Duration::days(200);
    let new = NewUser {
        language: Language::En,
        ..NewUser::from_telegram_id(TelegramId(880_001))
    };
    let gone = db.store.create_user(&new, long_ago).await.unwrap();
    let settings = app::AppSettings {
        retention_days: 100,
        ..app::AppSettings::default()
    };
    let app = app::App::new(db.store.clone(), settings);
    let shutdown = CancellationToken::new();
    let job = tokio::spawn(app::privacy::run_retention_job_every(
        app,
        shutdown.clone(),
        Duration::ZERO,
        Duration::from_secs(3600),
    ));
    until(|| async { db.store.user(gone.id).await.unwrap().is_none() }).await;
    shutdown.cancel();
    tokio::time::timeout(JOB_DEADLINE, job)
        .await
        .unwrap()
        .unwrap();
}

store::backend_tests!(the_retention_job_erases_people_past_retention_and_stops_on_shutdown);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_backups_write_encrypted_files_and_rotate_old_ones_out() {
    let db = TestDb::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let backups = dir.path().join("backups");
    std::fs::create_dir_all(&backups).unwrap();
    let now = OffsetDateTime::now_utc();
    // Two recent backups and one from before the window (keep 3 × 1 h).
    let recent = [
        app::backup::backup_file_name(now - time::Duration::minutes(30)),
        app::backup::backup_file_name(now - time::Duration::minutes(90)),
    ];
    let stale = app::backup::backup_file_name(now - time::Duration::days(30));
    for name in recent.iter().chain([&stale]) {
        std::fs::write(backups.join(name), b"older backup").unwrap();
    }
    let (_, recipient) = app::backup::new_key_pair();
    let settings = app::AppSettings {
        backup: app::BackupSettings {
            dir: backups.clone(),
            recipients: vec![recipient],
            keep: 3,
            interval_hours: 1,
        },
        ..app::AppSettings::default()
    };
    let app = app::App::new(db.store.clone(), settings);
    let shutdown = CancellationToken::new();
    let job = tokio::spawn(app::backup::run_scheduled_backups(app, shutdown.clone()));

    let listing = || {
        let mut names: Vec<String> = std::fs::read_dir(&backups)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    until(|| async { !listing().contains(&stale) }).await;
    shutdown.cancel();
    tokio::time::timeout(JOB_DEADLINE, job)
        .await
        .unwrap()
        .unwrap();

    let names = listing();
    assert_eq!(names.len(), 3, "{names:?}");
    let newest = names.last().unwrap();
    assert!(
        !recent.contains(newest),
        "a new backup was written: {names:?}"
    );
    let bytes = std::fs::read(backups.join(newest)).unwrap();
    assert!(bytes.starts_with(b"age-encryption.org/v1\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_recipients_the_backup_job_writes_nothing_and_waits_for_shutdown() {
    let db = TestDb::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = app::AppSettings::default();
    settings.backup.dir = dir.path().join("backups");
    let app = app::App::new(db.store.clone(), settings);
    let shutdown = CancellationToken::new();
    let job = tokio::spawn(app::backup::run_scheduled_backups(app, shutdown.clone()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !job.is_finished(),
        "serve would take an ended job for a failure"
    );
    assert!(
        !dir.path().join("backups").exists(),
        "nothing is written unencrypted"
    );
    shutdown.cancel();
    tokio::time::timeout(JOB_DEADLINE, job)
        .await
        .unwrap()
        .unwrap();
}
