//! Every file under a directory with its raw bytes: what the privacy tests search for a person's
//! data and the no-logs test for connection details.

use std::io;
use std::path::Path;

/// Every file under `dir`, recursively, as (path, bytes). SQLite removes its -wal and -shm
/// files as the last connection closes, which may still be under way while we list: a file
/// that is gone by the time it is read holds nothing to find, and is skipped.
pub fn under(dir: &Path) -> io::Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            out.extend(under(&path)?);
            continue;
        }
        match std::fs::read(&path) {
            Ok(bytes) => out.push((path.display().to_string(), bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_in_subdirectories_are_listed_with_their_bytes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("a"), b"1").unwrap();
        std::fs::write(dir.path().join("sub/b"), b"22").unwrap();
        let mut files = under(dir.path()).unwrap();
        files.sort();
        assert_eq!(files.len(), 2);
        assert!(files[0].0.ends_with("/a") && files[0].1 == b"1");
        assert!(files[1].0.ends_with("/sub/b") && files[1].1 == b"22");
    }
}
