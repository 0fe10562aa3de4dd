//! The node's memory of the feed on disk: `access.cache` (epoch, revision, user ids and expiry times) and `settings.cache`, both private and replaced atomically.

use std::path::Path;

use feed_wire::{NodeSettings, WireEntry};
use node::{AccessEntry, AccessUpdate};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

use crate::files;
use crate::snapshot::entry;

/// The access table's file in the cache directory.
pub const ACCESS_CACHE: &str = "access.cache";
/// The settings' file in the cache directory.
pub const SETTINGS_CACHE: &str = "settings.cache";

const ACCESS_MAGIC: &[u8] = b"milly-access-cache-1\n";
const SETTINGS_MAGIC: &[u8] = b"milly-settings-cache-2\n";

/// Why a cache file cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{0} is not a cache file of this version")]
    Format(String),
}

/// What `access.cache` holds.
pub(crate) struct CachedTable {
    pub(crate) epoch: [u8; 16],
    pub(crate) update: AccessUpdate,
}

/// Entries written straight from the table's export, without a second copy.
struct Entries<'a>(&'a [AccessEntry]);

impl Serialize for Entries<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|e| WireEntry {
            key: e.key.0,
            expires_at: e.expires_at,
        }))
    }
}

#[derive(Serialize)]
struct AccessOut<'a> {
    epoch: [u8; 16],
    revision: u64,
    entries: Entries<'a>,
}

#[derive(Deserialize)]
struct AccessIn {
    epoch: [u8; 16],
    revision: u64,
    entries: Vec<WireEntry>,
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> CacheError + '_ {
    move |source| CacheError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn write(path: &Path, magic: &[u8], value: &impl Serialize) -> Result<(), CacheError> {
    let bytes = postcard::to_extend(value, magic.to_vec())
        .map_err(|_| CacheError::Format(path.display().to_string()))?;
    files::replace_private(path, &bytes).map_err(io_error(path))
}

/// The file's payload after its magic, or `None` when there is no file.
fn read(path: &Path, magic: &[u8]) -> Result<Option<Vec<u8>>, CacheError> {
    match std::fs::read(path) {
        Ok(bytes) if bytes.starts_with(magic) => Ok(Some(bytes[magic.len()..].to_vec())),
        Ok(_) => Err(CacheError::Format(path.display().to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(path)(e)),
    }
}

/// Writes the table (as [`node::AccessTable::export`] gives it) under `epoch`.
pub(crate) fn write_access(
    dir: &Path,
    epoch: [u8; 16],
    revision: u64,
    entries: &[AccessEntry],
) -> Result<(), CacheError> {
    let value = AccessOut {
        epoch,
        revision,
        entries: Entries(entries),
    };
    write(&dir.join(ACCESS_CACHE), ACCESS_MAGIC, &value)
}

/// The cached table, if there is one.
pub(crate) fn read_access(dir: &Path) -> Result<Option<CachedTable>, CacheError> {
    let path = dir.join(ACCESS_CACHE);
    let Some(payload) = read(&path, ACCESS_MAGIC)? else {
        return Ok(None);
    };
    let file: AccessIn = postcard::from_bytes(&payload)
        .map_err(|_| CacheError::Format(path.display().to_string()))?;
    Ok(Some(CachedTable {
        epoch: file.epoch,
        update: AccessUpdate::Snapshot {
            revision: file.revision,
            entries: file.entries.iter().map(entry).collect(),
        },
    }))
}

pub(crate) fn write_settings(dir: &Path, settings: &NodeSettings) -> Result<(), CacheError> {
    write(&dir.join(SETTINGS_CACHE), SETTINGS_MAGIC, settings)
}

pub(crate) fn read_settings(dir: &Path) -> Result<Option<NodeSettings>, CacheError> {
    let path = dir.join(SETTINGS_CACHE);
    let Some(payload) = read(&path, SETTINGS_MAGIC)? else {
        return Ok(None);
    };
    postcard::from_bytes(&payload)
        .map(Some)
        .map_err(|_| CacheError::Format(path.display().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use feed_wire::SecuritySettings;

    #[test]
    fn a_written_table_reads_back_with_its_epoch_and_revision() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_access(dir.path()).unwrap().is_none());
        let entries = vec![
            AccessEntry {
                key: vless::UserKey([1; 16]),
                expires_at: 10,
            },
            AccessEntry {
                key: vless::UserKey([2; 16]),
                expires_at: -5,
            },
        ];
        write_access(dir.path(), [7; 16], 42, &entries).unwrap();
        let cached = read_access(dir.path()).unwrap().unwrap();
        assert_eq!(cached.epoch, [7; 16]);
        assert_eq!(
            cached.update,
            AccessUpdate::Snapshot {
                revision: 42,
                entries
            }
        );
    }

    #[test]
    fn settings_survive_the_cache_and_a_foreign_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_settings(dir.path()).unwrap().is_none());
        let settings = NodeSettings {
            port: 8443,
            security: SecuritySettings::Tls {
                certificate_pem: "c".into(),
                private_key_pem: "k".into(),
            },
            upstream: None,
            peer_keys: vec![[3; 16]],
        };
        write_settings(dir.path(), &settings).unwrap();
        assert_eq!(read_settings(dir.path()).unwrap(), Some(settings));
        std::fs::write(dir.path().join(ACCESS_CACHE), b"something else").unwrap();
        assert!(matches!(
            read_access(dir.path()),
            Err(CacheError::Format(_))
        ));
        let mut cut = ACCESS_MAGIC.to_vec();
        cut.extend_from_slice(&[1, 2, 3]);
        std::fs::write(dir.path().join(ACCESS_CACHE), cut).unwrap();
        assert!(matches!(
            read_access(dir.path()),
            Err(CacheError::Format(_))
        ));
    }
}
