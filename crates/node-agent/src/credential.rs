//! The node's credential: a key pair and self-signed certificate made at join, its TLS client certificate on every connection to the control plane.

use std::fmt;
use std::path::Path;

use feed_wire::CertPin;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::files;

/// The name in the node's certificate (the control plane knows the node by the pin, not this).
const SUBJECT: &str = "milly-node";

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("cannot make the node's key pair and certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("{0} holds no PEM certificate")]
    Certificate(String),
    #[error("{0} holds no PEM private key")]
    Key(String),
}

/// A certificate (PEM) and its private key (PEM). `Debug` never prints the key.
#[derive(Clone)]
pub struct Credential {
    certificate: CertificateDer<'static>,
    certificate_pem: String,
    key_pem: String,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("pin", &self.pin())
            .finish_non_exhaustive()
    }
}

impl Credential {
    /// A new key pair and a self-signed certificate for it.
    pub fn generate() -> Result<Self, CredentialError> {
        let made = rcgen::generate_simple_self_signed(vec![SUBJECT.to_owned()])?;
        Ok(Credential {
            certificate: made.cert.der().clone(),
            certificate_pem: made.cert.pem(),
            key_pem: made.key_pair.serialize_pem(),
        })
    }

    /// Reads a credential written by [`Credential::write`].
    pub fn load(certificate: &Path, key: &Path) -> Result<Self, CredentialError> {
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|source| CredentialError::Read {
                path: path.display().to_string(),
                source,
            })
        };
        let certificate_pem = read(certificate)?;
        let key_pem = read(key)?;
        let der = CertificateDer::from_pem_slice(certificate_pem.as_bytes())
            .map_err(|_| CredentialError::Certificate(certificate.display().to_string()))?;
        PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
            .map_err(|_| CredentialError::Key(key.display().to_string()))?;
        Ok(Credential {
            certificate: der,
            certificate_pem,
            key_pem,
        })
    }

    /// Writes the certificate and the key (0600) to new files; existing files are never
    /// overwritten.
    pub fn write(&self, certificate: &Path, key: &Path) -> Result<(), CredentialError> {
        let write = |path: &Path, text: &str| {
            files::create_private(path, text.as_bytes()).map_err(|source| CredentialError::Write {
                path: path.display().to_string(),
                source,
            })
        };
        write(key, &self.key_pem)?;
        write(certificate, &self.certificate_pem)
    }

    /// The pin of this certificate: the node's identity on the control plane.
    pub fn pin(&self) -> CertPin {
        CertPin::of_der(&self.certificate)
    }

    /// The certificate and key as rustls takes them.
    pub(crate) fn tls_parts(
        &self,
    ) -> Result<(CertificateDer<'static>, PrivateKeyDer<'static>), CredentialError> {
        let key = PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes())
            .map_err(|_| CredentialError::Key("the node's key".into()))?;
        Ok((self.certificate.clone(), key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_credential_loads_back_with_the_same_pin_and_a_private_key_file() {
        let dir = tempfile::tempdir().unwrap();
        let (crt, key) = (dir.path().join("node.crt"), dir.path().join("node.key"));
        let made = Credential::generate().unwrap();
        made.write(&crt, &key).unwrap();
        let loaded = Credential::load(&crt, &key).unwrap();
        assert_eq!(loaded.pin(), made.pin());
        assert_ne!(Credential::generate().unwrap().pin(), made.pin());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(!format!("{made:?}").contains("PRIVATE"));
        assert!(
            made.write(&crt, &key).is_err(),
            "never overwrites a credential"
        );
    }

    #[test]
    fn a_file_without_a_certificate_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (crt, key) = (dir.path().join("node.crt"), dir.path().join("node.key"));
        std::fs::write(&crt, "not a certificate").unwrap();
        std::fs::write(&key, "not a key").unwrap();
        assert!(matches!(
            Credential::load(&crt, &key),
            Err(CredentialError::Certificate(_))
        ));
    }
}
