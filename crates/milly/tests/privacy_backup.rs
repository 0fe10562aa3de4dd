//! Encrypted backups (policy 6.2): `milly backup create` writes an age file with no plaintext
//! in it that `age -d` also decrypts; a backup restores SQLite → PostgreSQL → SQLite with every
//! row intact; a restore refuses a store that is not empty.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::path::Path;

use domain::Email;
use store::testing::someone::{self, EMAIL, SUPPORT_REPLY, SUPPORT_TEXT};
use store::testing::TestDb;
use store::{RestoreError, StoreDump};
use testkit::milly::cli;
use time::OffsetDateTime;

/// A config with backups encrypted to a fresh key; returns (config text, identity).
fn backup_config(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (identity, recipient) = app::backup::new_key_pair();
    let key = dir.join("backup-key.txt");
    std::fs::write(&key, format!("# backup identity\n{identity}\n")).unwrap();
    let config = dir.join("milly.toml");
    let (env, _, _) = cli::ports_env();
    let web = &env[0].1;
    let node = &env[1].1;
    std::fs::write(
        &config,
        format!(
            "[web]\nlisten = \"{web}\"\n[node]\nlisten = \"{node}\"\n\
             [backup]\nrecipients = [\"{recipient}\"]\n"
        ),
    )
    .unwrap();
    (config, key)
}

async fn fill(store: &store::Store) {
    let now = OffsetDateTime::now_utc();
    let user = store
        .create_user(&someone::new_user(now), now)
        .await
        .unwrap();
    store
        .set_email(user.id, Some(&EMAIL.parse::<Email>().unwrap()))
        .await
        .unwrap();
    store
        .grant_days(
            user.id,
            domain::PlanId("month".into()),
            domain::Days(30),
            now,
        )
        .await
        .unwrap();
    let (ticket, _) = store.open_ticket(user.id, SUPPORT_TEXT, now).await.unwrap();
    store
        .add_support_message(ticket, true, SUPPORT_REPLY, now)
        .await
        .unwrap();
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_file_holds_no_plaintext_and_age_decrypts_it() {
    let dir = tempfile::tempdir().unwrap();
    let (config, key) = backup_config(dir.path());
    let config_arg = config.to_str().unwrap();
    cli::ok(dir.path(), &["--config", config_arg, "user", "list"], &[]);
    let db = dir.path().join("milly-data/milly.db");
    let store = store::Store::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    fill(&store).await;
    store.close().await;

    let out = dir.path().join("now.age");
    let printed = cli::ok(
        dir.path(),
        &[
            "--config",
            config_arg,
            "backup",
            "create",
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert!(printed.contains("backup written"), "{printed}");
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.starts_with(b"age-encryption.org/v1\n"));
    for secret in someone::traces() {
        assert!(
            !contains(&bytes, &secret),
            "the backup shows {secret} in the clear"
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "a backup is readable by its owner only");
    }

    // The reference age tool reads our files (skipped where it is not installed).
    match std::process::Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&key)
        .arg(&out)
        .output()
    {
        Ok(o) => {
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            let dump: StoreDump = serde_json::from_slice(&o.stdout).unwrap();
            let text = serde_json::to_string(&dump).unwrap();
            for secret in someone::traces() {
                assert!(text.contains(&secret), "age's plaintext lacks {secret}");
            }
        }
        Err(_) => {
            // CI installs age: there a missing tool is a failure, not a skip.
            assert!(
                std::env::var_os("CI").is_none(),
                "the `age` CLI is not installed"
            );
            eprintln!("skipped: `age` CLI not installed (apt-get install age)");
        }
    }

    // A scheduled-style backup lands in [backup] dir.
    let printed = cli::ok(
        dir.path(),
        &["--config", config_arg, "backup", "create"],
        &[],
    );
    assert!(printed.contains("milly-data/backups/milly-"), "{printed}");
}

#[test]
fn the_cli_restores_into_an_empty_store_and_refuses_a_full_one() {
    let source = tempfile::tempdir().unwrap();
    let (config, key) = backup_config(source.path());
    let config_arg = config.to_str().unwrap();
    cli::ok(
        source.path(),
        &[
            "--config",
            config_arg,
            "user",
            "add",
            "--telegram-id",
            "7770555999",
            "--days",
            "5",
        ],
        &[],
    );
    let file = source.path().join("b.age");
    cli::ok(
        source.path(),
        &[
            "--config",
            config_arg,
            "backup",
            "create",
            "--out",
            file.to_str().unwrap(),
        ],
        &[],
    );

    let target = tempfile::tempdir().unwrap();
    let restore = [
        "backup",
        "restore",
        file.to_str().unwrap(),
        "--identity",
        key.to_str().unwrap(),
    ];
    let printed = cli::ok(target.path(), &restore, &[]);
    assert!(printed.contains("restored"), "{printed}");
    let show = cli::ok(target.path(), &["user", "show", "7770555999"], &[]);
    assert!(show.contains("active"), "{show}");

    let again = cli::run(target.path(), &restore, &[]);
    assert_ne!(again.status, 0);
    assert!(again.stderr.contains("not empty"), "{}", again.stderr);

    let wrong_key = target.path().join("other.txt");
    std::fs::write(&wrong_key, app::backup::new_key_pair().0).unwrap();
    let fresh = tempfile::tempdir().unwrap();
    let denied = cli::run(
        fresh.path(),
        &[
            "backup",
            "restore",
            file.to_str().unwrap(),
            "--identity",
            wrong_key.to_str().unwrap(),
        ],
        &[],
    );
    assert_ne!(denied.status, 0);
    assert!(
        denied.stderr.contains("cannot decrypt"),
        "{}",
        denied.stderr
    );
}

fn app_for(db: &TestDb, recipient: &str) -> app::App {
    let mut settings = app::AppSettings::default();
    settings.backup.recipients = vec![recipient.to_owned()];
    app::App::new(db.store.clone(), settings)
}

/// Rows per table, sorted, so two backends' dumps compare regardless of row order.
fn normalized(dump: &StoreDump) -> Vec<(String, Vec<String>)> {
    dump.tables
        .iter()
        .map(|t| {
            let mut rows: Vec<String> = t
                .rows
                .iter()
                .map(|r| {
                    let mut cells: Vec<(String, String)> = t
                        .columns
                        .iter()
                        .cloned()
                        .zip(r.iter().map(|v| v.to_string()))
                        .collect();
                    cells.sort();
                    format!("{cells:?}")
                })
                .collect();
            rows.sort();
            (t.name.clone(), rows)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_travels_from_sqlite_to_postgresql_and_back() {
    let Some(postgres) = TestDb::postgres().await else {
        return;
    };
    let (identity, recipient) = app::backup::new_key_pair();
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("key.txt");
    std::fs::write(&key, identity).unwrap();

    let sqlite = TestDb::sqlite().await;
    fill(&sqlite.store).await;
    let original = sqlite.store.dump().await.unwrap();
    let first = tmp.path().join("from-sqlite.age");
    app_for(&sqlite, &recipient)
        .create_backup(Some(&first))
        .await
        .unwrap();

    app::backup::restore_backup(&postgres.store, &first, &key)
        .await
        .unwrap();
    let in_postgres = postgres.store.dump().await.unwrap();
    assert_eq!(normalized(&in_postgres), normalized(&original));
    assert_eq!(in_postgres.id_high_water, original.id_high_water);

    let second = tmp.path().join("from-postgres.age");
    app_for(&postgres, &recipient)
        .create_backup(Some(&second))
        .await
        .unwrap();
    let back = TestDb::sqlite().await;
    app::backup::restore_backup(&back.store, &second, &key)
        .await
        .unwrap();
    assert_eq!(
        normalized(&back.store.dump().await.unwrap()),
        normalized(&original)
    );

    // Neither store takes a second copy on top of what it holds.
    for target in [&postgres, &back] {
        let refused = app::backup::restore_backup(&target.store, &first, &key).await;
        assert!(
            matches!(
                refused,
                Err(app::backup::BackupError::Restore(RestoreError::NotEmpty))
            ),
            "{refused:?}"
        );
    }
}
