//! Encrypted backups (policy 6.2): the store's consistent dump as JSON, encrypted to the
//! `[backup] recipients` in the age format (so `age -d` / `rage -d` read it too), restored only
//! into an empty store, and scheduled with rotation so that erased people do not live on in old
//! backups. Nothing in a backup file is plaintext.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::str::FromStr as _;
use std::time::{Duration, SystemTime};

use age::secrecy::ExposeSecret as _;
use store::{RestoreError, Store, StoreDump};
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use crate::App;

/// Scheduled backups are named `milly-<UTC time>.age` in `[backup] dir`; rotation touches only
/// files named like this.
const FILE_PREFIX: &str = "milly-";
const FILE_SUFFIX: &str = ".age";
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(60 * 60);

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("no [backup] recipients are configured: backups are only written encrypted")]
    NoRecipients,
    #[error("backup.recipients[{0}] is not an age public key (age1...)")]
    BadRecipient(usize),
    #[error("cannot read the identity file {path}: {reason}")]
    Identity { path: PathBuf, reason: String },
    #[error("cannot encrypt the backup: {0}")]
    Encrypt(String),
    #[error("cannot decrypt the backup (wrong identity, or not an age file): {0}")]
    Decrypt(String),
    #[error("the decrypted backup is not a milly store dump: {0}")]
    Format(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Restore(#[from] RestoreError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_owned(),
        source,
    }
}

/// A new age key pair for backups: the identity (`AGE-SECRET-KEY-1...`, keep it offline) and
/// its public recipient (`age1...`, for `[backup] recipients`).
pub fn new_key_pair() -> (String, String) {
    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public().to_string();
    (identity.to_string().expose_secret().to_owned(), recipient)
}

/// `dump` as JSON, encrypted to every recipient.
pub fn encrypt_dump(dump: &StoreDump, recipients: &[String]) -> Result<Vec<u8>, BackupError> {
    if recipients.is_empty() {
        return Err(BackupError::NoRecipients);
    }
    let parsed = recipients
        .iter()
        .enumerate()
        .map(|(i, r)| {
            age::x25519::Recipient::from_str(r.trim()).map_err(|_| BackupError::BadRecipient(i))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let encryptor =
        age::Encryptor::with_recipients(parsed.iter().map(|r| r as &dyn age::Recipient))
            .map_err(|e| BackupError::Encrypt(e.to_string()))?;
    let plaintext = serde_json::to_vec(dump).map_err(|e| BackupError::Encrypt(e.to_string()))?;
    let mut out = Vec::with_capacity(plaintext.len() + 1024);
    let mut writer = encryptor
        .wrap_output(&mut out)
        .map_err(|e| BackupError::Encrypt(e.to_string()))?;
    writer
        .write_all(&plaintext)
        .and_then(|()| writer.finish().map(|_| ()))
        .map_err(|e| BackupError::Encrypt(e.to_string()))?;
    Ok(out)
}

/// Reads the identities (`AGE-SECRET-KEY-1...` lines, `#` comments allowed) in `path`.
pub fn read_identities(
    path: &Path,
) -> Result<Vec<Box<dyn age::Identity + Send + Sync>>, BackupError> {
    let fail = |reason: String| BackupError::Identity {
        path: path.to_owned(),
        reason,
    };
    let text = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
    let identities = age::IdentityFile::from_buffer(text.as_slice())
        .map_err(|e| fail(e.to_string()))?
        .into_identities()
        .map_err(|e| fail(e.to_string()))?;
    if identities.is_empty() {
        return Err(fail("no identity in it".into()));
    }
    Ok(identities)
}

/// Decrypts and parses a backup file's bytes.
pub fn decrypt_dump(
    ciphertext: &[u8],
    identities: &[Box<dyn age::Identity + Send + Sync>],
) -> Result<StoreDump, BackupError> {
    let decryptor = age::Decryptor::new_buffered(ciphertext)
        .map_err(|e| BackupError::Decrypt(e.to_string()))?;
    let mut reader = decryptor
        .decrypt(identities.iter().map(|i| i.as_ref() as &dyn age::Identity))
        .map_err(|e| BackupError::Decrypt(e.to_string()))?;
    let mut plaintext = Vec::new();
    reader
        .read_to_end(&mut plaintext)
        .map_err(|e| BackupError::Decrypt(e.to_string()))?;
    serde_json::from_slice(&plaintext).map_err(|e| BackupError::Format(e.to_string()))
}

/// Writes `bytes` to `path` through a temporary file in the same directory, readable by the
/// owner only, so a crash never leaves half a backup under the final name.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), BackupError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(io_error(&dir))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "backup".into());
    let tmp = dir.join(format!(".{name}.partial"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp).map_err(io_error(&tmp))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(io_error(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io_error(path))
}

/// What `create_backup` wrote.
#[derive(Debug, Clone)]
pub struct BackupSummary {
    pub path: PathBuf,
    pub bytes: u64,
    pub tables: usize,
    pub rows: usize,
}

/// The name a scheduled backup taken at `at` gets; names sort by time.
pub fn backup_file_name(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{FILE_PREFIX}{:04}{:02}{:02}T{:02}{:02}{:02}Z{FILE_SUFFIX}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

impl App {
    /// The configured backup directory (`[backup] dir`, by default `backups` in the data dir).
    pub fn backup_dir(&self) -> PathBuf {
        self.settings().backup.dir.clone()
    }

    /// Writes an encrypted snapshot of the store to `out`, or to a new file in the backup
    /// directory.
    pub async fn create_backup(&self, out: Option<&Path>) -> Result<BackupSummary, BackupError> {
        let recipients = &self.settings().backup.recipients;
        if recipients.is_empty() {
            return Err(BackupError::NoRecipients);
        }
        let dump = self.store().dump().await?;
        let rows = dump.tables.iter().map(|t| t.rows.len()).sum();
        let tables = dump.tables.len();
        let bytes = encrypt_dump(&dump, recipients)?;
        drop(dump);
        let path = match out {
            Some(p) => p.to_owned(),
            None => self
                .backup_dir()
                .join(backup_file_name(OffsetDateTime::now_utc())),
        };
        write_private(&path, &bytes)?;
        Ok(BackupSummary {
            path,
            bytes: bytes.len() as u64,
            tables,
            rows,
        })
    }

    /// How long a scheduled backup may live: `keep` intervals. After that window a person
    /// erased today is in no backup any more.
    pub fn backup_window(&self) -> Option<Duration> {
        let c = &self.settings().backup;
        (c.interval_hours > 0)
            .then(|| Duration::from_secs(u64::from(c.interval_hours) * 3600 * u64::from(c.keep)))
    }
}

/// Restores the backup at `file`, decrypted with the identities in `identity`, into `store`,
/// which must be empty. Returns how many rows were restored.
pub async fn restore_backup(
    store: &Store,
    file: &Path,
    identity: &Path,
) -> Result<usize, BackupError> {
    let identities = read_identities(identity)?;
    let ciphertext = std::fs::read(file).map_err(io_error(file))?;
    let dump = decrypt_dump(&ciphertext, &identities)?;
    store.restore(&dump).await?;
    Ok(dump.tables.iter().map(|t| t.rows.len()).sum())
}

/// Deletes scheduled backups in `dir` beyond the newest `keep`, and any older than `max_age`
/// (by the time in their name). Only files named like [`backup_file_name`] are touched.
/// Returns how many were deleted.
pub fn rotate(
    dir: &Path,
    keep: usize,
    max_age: Option<Duration>,
    now: SystemTime,
) -> Result<usize, BackupError> {
    let mut backups: Vec<(String, PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_error(dir))? {
        let entry = entry.map_err(io_error(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(FILE_PREFIX) && name.ends_with(FILE_SUFFIX) {
            backups.push((name, entry.path()));
        }
    }
    // Newest first: the names sort by time.
    backups.sort_by(|a, b| b.0.cmp(&a.0));
    let oldest_allowed = max_age
        .and_then(|age| now.checked_sub(age))
        .map(|t| backup_file_name(OffsetDateTime::from(t)));
    let mut deleted = 0;
    for (i, (name, path)) in backups.iter().enumerate() {
        let too_many = i >= keep;
        let too_old = oldest_allowed.as_ref().is_some_and(|oldest| name < oldest);
        if too_many || too_old {
            std::fs::remove_file(path).map_err(io_error(path))?;
            deleted += 1;
        }
    }
    Ok(deleted)
}

/// Scheduled backups for `milly serve`: one at start and then every `[backup] interval_hours`
/// into the backup directory, each followed by rotation. Without recipients or with an interval
/// of 0 it does nothing but wait for `shutdown` (so serve never sees it end early).
pub async fn run_scheduled_backups(app: App, shutdown: CancellationToken) {
    let c = &app.settings().backup;
    if c.recipients.is_empty() || c.interval_hours == 0 {
        tracing::info!("scheduled backups off (no [backup] recipients or interval_hours = 0)");
        shutdown.cancelled().await;
        return;
    }
    let interval = Duration::from_secs(u64::from(c.interval_hours) * 3600);
    let keep = c.keep as usize;
    let mut wait = Duration::ZERO;
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
        wait = match scheduled_once(&app, keep).await {
            Ok(deleted) => {
                tracing::info!(rotated_out = deleted, "scheduled backup written");
                interval
            }
            Err(err) => {
                tracing::warn!(error = %err, "scheduled backup failed; retrying in an hour");
                RETRY_AFTER_FAILURE.min(interval)
            }
        };
    }
}

async fn scheduled_once(app: &App, keep: usize) -> Result<usize, BackupError> {
    app.create_backup(None).await?;
    let dir = app.backup_dir();
    let window = app.backup_window();
    tokio::task::spawn_blocking(move || rotate(&dir, keep, window, SystemTime::now()))
        .await
        .map_err(|e| BackupError::Encrypt(format!("rotation task failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dump() -> StoreDump {
        serde_json::from_value(serde_json::json!({
            "format": 1,
            "schema_version": 7,
            "tables": [{"name": "users", "columns": ["first_name"], "rows": [["Zinaida"]]}],
            "id_high_water": {"users": 3},
        }))
        .unwrap()
    }

    #[test]
    fn a_backup_decrypts_with_the_identity_and_holds_no_plaintext() {
        let (identity, recipient) = new_key_pair();
        let bytes = encrypt_dump(&dump(), &[recipient]).unwrap();
        assert!(!bytes.windows(7).any(|w| w == b"Zinaida"));
        assert!(bytes.starts_with(b"age-encryption.org/v1\n"));
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        let key = dir.join("key.txt");
        std::fs::write(&key, format!("# test\n{identity}\n")).unwrap();
        let back = decrypt_dump(&bytes, &read_identities(&key).unwrap()).unwrap();
        assert_eq!(back, dump());
    }

    #[test]
    fn another_identity_cannot_decrypt() {
        let (_, recipient) = new_key_pair();
        let (other, _) = new_key_pair();
        let bytes = encrypt_dump(&dump(), &[recipient]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        let key = dir.join("other.txt");
        std::fs::write(&key, other).unwrap();
        assert!(matches!(
            decrypt_dump(&bytes, &read_identities(&key).unwrap()),
            Err(BackupError::Decrypt(_))
        ));
    }

    #[test]
    fn without_recipients_nothing_is_written_in_the_clear() {
        assert!(matches!(
            encrypt_dump(&dump(), &[]),
            Err(BackupError::NoRecipients)
        ));
        assert!(matches!(
            encrypt_dump(&dump(), &["age1nope".into()]),
            Err(BackupError::BadRecipient(0))
        ));
    }

    #[test]
    fn backup_names_sort_by_time() {
        let a = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let b = a + time::Duration::seconds(1);
        assert!(backup_file_name(a) < backup_file_name(b));
        assert_eq!(backup_file_name(a), "milly-20231114T221320Z.age");
    }

    #[test]
    fn rotation_keeps_the_newest_and_drops_those_past_the_window() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_owned();
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        for days in [0, 1, 2, 3, 10] {
            let name = backup_file_name(now - time::Duration::days(days));
            std::fs::write(dir.join(name), b"x").unwrap();
        }
        std::fs::write(dir.join("notes.txt"), b"operator's file").unwrap();
        let deleted = rotate(&dir, 4, Some(Duration::from_secs(5 * 86_400)), now.into()).unwrap();
        // Day 10 is past the window; days 0-3 fit both rules.
        assert_eq!(deleted, 1);
        let deleted = rotate(&dir, 2, None, now.into()).unwrap();
        assert_eq!(deleted, 2);
        let mut left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            vec![
                backup_file_name(now - time::Duration::days(1)),
                backup_file_name(now),
                "notes.txt".to_owned()
            ]
        );
    }
}
