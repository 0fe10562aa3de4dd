//! Private files: created 0600 in a 0700 directory, replaced atomically (temp file, fsync, rename).

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// Creates `dir` (and its parents) if missing; a new directory is 0700.
pub(crate) fn ensure_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Replaces `path` with what `fill` writes (through a buffer, so a large file never has to be
/// whole in memory first), so that readers see the old file or the new one, never half of
/// one; the file is readable by its owner only.
pub(crate) fn replace_private(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<fs::File>) -> io::Result<()>,
) -> io::Result<()> {
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = Path::new(&tmp_name);
    let _ = fs::remove_file(tmp);
    let mut out = BufWriter::new(private_options().open(tmp)?);
    fill(&mut out)?;
    let file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
    file.sync_all()?;
    drop(file);
    fs::rename(tmp, path)
}

/// Writes a new private file; fails if `path` exists.
pub(crate) fn create_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = private_options().open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn private_options() -> fs::OpenOptions {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replaced_file_holds_the_new_bytes_is_private_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("access.cache");
        replace_private(&path, |out| out.write_all(b"old")).unwrap();
        replace_private(&path, |out| out.write_all(b"new")).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert!(!dir.path().join("access.cache.tmp").exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(create_private(&path, b"again").is_err(), "never overwrites");
    }
}
