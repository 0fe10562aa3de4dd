//! The node's memory of the feed on disk: `access.cache` (epoch, revision, user ids and expiry times) and `settings.cache`, both private and replaced atomically.

use std::path::Path;

use std::io::Write as _;

use feed_wire::{NodeSettings, WireEntry};
use node::{TableBuilder, TableView};
use serde::ser::{SerializeSeq as _, Serializer};
use serde::Serialize;

use crate::files;
use crate::snapshot::entry;

/// The access table's file in the cache directory.
pub const ACCESS_CACHE: &str = "access.cache";
/// The settings' file in the cache directory.
pub const SETTINGS_CACHE: &str = "settings.cache";

const ACCESS_MAGIC: &[u8] = b"milly-access-cache-1\n";
const SETTINGS_MAGIC: &[u8] = b"milly-settings-cache-4\n";

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

/// What `access.cache` holds, its entries already in a table ready to install.
pub(crate) struct CachedTable {
    pub(crate) epoch: [u8; 16],
    pub(crate) revision: u64,
    pub(crate) table: TableBuilder,
}

/// The entries written straight from the table's shards, without a copy of them.
struct Entries<'a>(&'a TableView);

impl Serialize for Entries<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for e in self.0.entries() {
            seq.serialize_element(&WireEntry {
                key: e.key.0,
                expires_at: e.expires_at,
            })?;
        }
        seq.end()
    }
}

/// The file's layout (postcard): the epoch, the revision, then the entries as a sequence.
#[derive(Serialize)]
struct AccessOut<'a> {
    epoch: [u8; 16],
    revision: u64,
    entries: Entries<'a>,
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> CacheError + '_ {
    move |source| CacheError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn format_error(path: &Path) -> CacheError {
    CacheError::Format(path.display().to_string())
}

fn write(path: &Path, magic: &[u8], value: &impl Serialize) -> Result<(), CacheError> {
    files::replace_private(path, |out| {
        out.write_all(magic)?;
        postcard::to_io(value, out)
            .map(|_| ())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    })
    .map_err(io_error(path))
}

/// The whole file, and where its payload starts after the magic; `None` when there is no file.
fn read(path: &Path, magic: &[u8]) -> Result<Option<Vec<u8>>, CacheError> {
    match std::fs::read(path) {
        Ok(bytes) if bytes.starts_with(magic) => Ok(Some(bytes)),
        Ok(_) => Err(format_error(path)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(path)(e)),
    }
}

/// Writes the table as `view` shows it, under `epoch`, streaming it to the file.
pub(crate) fn write_access(
    dir: &Path,
    epoch: [u8; 16],
    view: &TableView,
) -> Result<(), CacheError> {
    let value = AccessOut {
        epoch,
        revision: view.revision(),
        entries: Entries(view),
    };
    write(&dir.join(ACCESS_CACHE), ACCESS_MAGIC, &value)
}

/// The cached table, if there is one. Entries are decoded one by one into the table, so
/// reading costs the file's bytes and the table, never a list of entries as well.
pub(crate) fn read_access(dir: &Path) -> Result<Option<CachedTable>, CacheError> {
    let path = dir.join(ACCESS_CACHE);
    let Some(bytes) = read(&path, ACCESS_MAGIC)? else {
        return Ok(None);
    };
    let broken = |_| format_error(&path);
    let rest = bytes.get(ACCESS_MAGIC.len()..).unwrap_or_default();
    let (epoch, rest): ([u8; 16], _) = postcard::take_from_bytes(rest).map_err(broken)?;
    let (revision, rest): (u64, _) = postcard::take_from_bytes(rest).map_err(broken)?;
    // A sequence's length is a varint, as a u64 is.
    let (count, mut rest): (u64, _) = postcard::take_from_bytes(rest).map_err(broken)?;
    let mut table = TableBuilder::new();
    for _ in 0..count {
        let (wire, after): (WireEntry, _) = postcard::take_from_bytes(rest).map_err(broken)?;
        table.insert(entry(&wire));
        rest = after;
    }
    if !rest.is_empty() {
        return Err(format_error(&path));
    }
    Ok(Some(CachedTable {
        epoch,
        revision,
        table,
    }))
}

pub(crate) fn write_settings(dir: &Path, settings: &NodeSettings) -> Result<(), CacheError> {
    write(&dir.join(SETTINGS_CACHE), SETTINGS_MAGIC, settings)
}

pub(crate) fn read_settings(dir: &Path) -> Result<Option<NodeSettings>, CacheError> {
    let path = dir.join(SETTINGS_CACHE);
    let Some(bytes) = read(&path, SETTINGS_MAGIC)? else {
        return Ok(None);
    };
    postcard::from_bytes(bytes.get(SETTINGS_MAGIC.len()..).unwrap_or_default())
        .map(Some)
        .map_err(|_| CacheError::Format(path.display().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use feed_wire::SecuritySettings;
    use node::{AccessEntry, AccessTable, AccessUpdate};

    #[test]
    fn a_written_table_reads_back_with_its_epoch_and_revision() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_access(dir.path()).unwrap().is_none());
        let table = AccessTable::new();
        let (one, two) = (vless::UserKey([1; 16]), vless::UserKey([2; 16]));
        table.apply(AccessUpdate::Snapshot {
            revision: 42,
            entries: vec![
                AccessEntry {
                    key: one,
                    expires_at: 10,
                },
                AccessEntry {
                    key: two,
                    expires_at: -5,
                },
            ],
        });
        write_access(dir.path(), [7; 16], &table.view()).unwrap();
        let cached = read_access(dir.path()).unwrap().unwrap();
        assert_eq!((cached.epoch, cached.revision), ([7; 16], 42));
        assert_eq!(cached.table.inserted(), 2);
        let copy = AccessTable::new();
        copy.install(cached.revision, cached.table);
        assert!(copy.is_allowed(&one, 9) && !copy.is_allowed(&one, 10));
        assert!(copy.is_allowed(&two, -6) && !copy.is_allowed(&two, -5));
        assert_eq!((copy.revision(), copy.len()), (42, 2));
    }

    #[test]
    fn a_cache_cut_short_or_with_bytes_after_its_table_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let table = AccessTable::new();
        table.apply(AccessUpdate::Snapshot {
            revision: 3,
            entries: vec![AccessEntry {
                key: vless::UserKey([1; 16]),
                expires_at: 10,
            }],
        });
        write_access(dir.path(), [7; 16], &table.view()).unwrap();
        let path = dir.path().join(ACCESS_CACHE);
        let whole = std::fs::read(&path).unwrap();
        std::fs::write(&path, &whole[..whole.len() - 1]).unwrap();
        assert!(matches!(
            read_access(dir.path()),
            Err(CacheError::Format(_))
        ));
        let mut longer = whole.clone();
        longer.push(0);
        std::fs::write(&path, longer).unwrap();
        assert!(matches!(
            read_access(dir.path()),
            Err(CacheError::Format(_))
        ));
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
            http: feed_wire::HttpSettings {
                ws_path: None,
                httpupgrade_path: Some("/p/up".into()),
                xhttp_path: Some("/p/xh".into()),
                grpc_service_name: Some("p.grpc".into()),
            },
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
