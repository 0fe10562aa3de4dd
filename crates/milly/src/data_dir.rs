//! The data directory: created private (0700), and home of secrets milly generates on first use
//! so that the embedded default needs no setup and keeps its identity across restarts.

use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use base64::Engine as _;

pub fn ensure(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir)
        .with_context(|| format!("cannot create data directory {}", dir.display()))?;
    set_mode(dir, 0o700)?;
    Ok(())
}

/// 256 random bits, URL-safe base64.
pub fn random_secret() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness from the OS: {e}"))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// Reads `dir/name`, or creates it (mode 0600) with `make()`'s content on first use.
pub fn read_or_create(
    dir: &Path,
    name: &str,
    make: impl FnOnce() -> Result<String>,
) -> Result<String> {
    let path = dir.join(name);
    match fs::read_to_string(&path) {
        Ok(s) => Ok(s),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let content = make()?;
            write_private(&path, &content)?;
            Ok(content)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Creates a new file readable only by its owner; refuses to overwrite.
pub fn write_private(path: &Path, content: &str) -> Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(content.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
            .with_context(|| format!("cannot set permissions on {}", path.display()))?;
    }
    let _ = mode;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_created_once_and_then_kept() {
        let dir = tempfile::tempdir().unwrap();
        let a = read_or_create(dir.path(), "s", random_secret).unwrap();
        let b = read_or_create(dir.path(), "s", || panic!("must not regenerate")).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 43);
    }

    #[cfg(unix)]
    #[test]
    fn secret_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        read_or_create(dir.path(), "s", random_secret).unwrap();
        let mode = fs::metadata(dir.path().join("s"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
