//! Where the account key and the certificate live: `acme/` in the data directory (0700), each
//! file 0600 and replaced atomically (a crash mid-write leaves the old file).

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::Certificate;

/// A file under `acme/` that cannot be read or written.
#[derive(Debug, thiserror::Error)]
#[error("cannot {action} {path}: {kind}")]
pub struct FilesError {
    action: &'static str,
    path: String,
    kind: io::ErrorKind,
}

const ACCOUNT: &str = "account.json";
const CERTIFICATE: &str = "certificate.pem";
const KEY: &str = "key.pem";
/// The names the stored certificate was ordered for, one a line: other names mean a new order.
const NAMES: &str = "names";

pub(crate) struct Files {
    dir: PathBuf,
}

impl Files {
    /// `dir` is created (0700) if missing.
    pub(crate) fn open(dir: &Path) -> Result<Self, FilesError> {
        std::fs::create_dir_all(dir).map_err(|e| fail("create", dir, e))?;
        set_mode(dir, 0o700)?;
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }

    /// The stored account (JSON), if any.
    pub(crate) fn account(&self) -> Result<Option<String>, FilesError> {
        self.read(ACCOUNT)
    }

    pub(crate) fn save_account(&self, json: &str) -> Result<(), FilesError> {
        self.write(ACCOUNT, json)
    }

    /// The stored chain and key, if they were ordered for exactly `names`.
    pub(crate) fn certificate(
        &self,
        names: &[String],
    ) -> Result<Option<(String, String)>, FilesError> {
        let Some(stored) = self.read(NAMES)? else {
            return Ok(None);
        };
        if stored.lines().collect::<Vec<_>>()
            != names.iter().map(String::as_str).collect::<Vec<_>>()
        {
            return Ok(None);
        }
        match (self.read(CERTIFICATE)?, self.read(KEY)?) {
            (Some(chain), Some(key)) => Ok(Some((chain, key))),
            _ => Ok(None),
        }
    }

    /// Key first, names last: the names file says the pair beside it is complete.
    pub(crate) fn save_certificate(
        &self,
        names: &[String],
        certificate: &Certificate,
    ) -> Result<(), FilesError> {
        let _ = std::fs::remove_file(self.dir.join(NAMES));
        self.write(KEY, certificate.key_pem())?;
        self.write(CERTIFICATE, certificate.chain_pem())?;
        self.write(NAMES, &names.join("\n"))
    }

    fn read(&self, name: &str) -> Result<Option<String>, FilesError> {
        let path = self.dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(s) => Ok(Some(s)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(fail("read", &path, e)),
        }
    }

    fn write(&self, name: &str, contents: &str) -> Result<(), FilesError> {
        let path = self.dir.join(name);
        let temporary = self.dir.join(format!(".{name}.new"));
        let _ = std::fs::remove_file(&temporary);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options
            .open(&temporary)
            .map_err(|e| fail("create", &temporary, e))?;
        file.write_all(contents.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| fail("write", &temporary, e))?;
        std::fs::rename(&temporary, &path).map_err(|e| fail("replace", &path, e))
    }
}

fn fail(action: &'static str, path: &Path, e: io::Error) -> FilesError {
    FilesError {
        action,
        path: path.display().to_string(),
        kind: e.kind(),
    }
}

fn set_mode(path: &Path, mode: u32) -> Result<(), FilesError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .map_err(|e| fail("set permissions on", path, e))?;
    }
    let _ = mode;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certificate::tests::pem_valid;

    fn names() -> Vec<String> {
        vec!["vpn.example.com".into(), "node.vpn.example.com".into()]
    }

    #[test]
    fn a_saved_certificate_is_found_for_the_same_names_only() {
        let dir = tempfile::tempdir().unwrap();
        let files = Files::open(&dir.path().join("acme")).unwrap();
        assert!(files.certificate(&names()).unwrap().is_none());
        let (chain, key) = pem_valid("vpn.example.com", 1_700_000_000, 90);
        let cert = Certificate::from_pem(&chain, &key).unwrap();
        files.save_certificate(&names(), &cert).unwrap();
        assert_eq!(
            files.certificate(&names()).unwrap(),
            Some((chain.clone(), key.clone()))
        );
        assert!(files
            .certificate(&["vpn.example.com".to_owned()])
            .unwrap()
            .is_none());
    }

    #[cfg(unix)]
    #[test]
    fn every_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let acme = dir.path().join("acme");
        let files = Files::open(&acme).unwrap();
        let (chain, key) = pem_valid("vpn.example.com", 1_700_000_000, 90);
        let cert = Certificate::from_pem(&chain, &key).unwrap();
        files.save_certificate(&names(), &cert).unwrap();
        files.save_account("{}").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&acme), 0o700);
        for name in [ACCOUNT, CERTIFICATE, KEY, NAMES] {
            assert_eq!(mode(&acme.join(name)), 0o600, "{name}");
        }
    }
}
