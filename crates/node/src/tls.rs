//! The node's TLS server settings: certificate loading, self-signed generation, rustls config.

use std::io;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;

use crate::config::{PersistedCert, TlsSource};

/// Why the node's certificate and key cannot be loaded, made or used (not a TLS connection's
/// failure: that is `reality::TlsError`, or rustls's own).
#[derive(Debug, thiserror::Error)]
pub enum CertificateError {
    #[error("cannot read the certificate file {path}: {kind}")]
    ReadFile { path: String, kind: io::ErrorKind },
    #[error("cannot write the certificate file {path}: {kind}")]
    WriteFile { path: String, kind: io::ErrorKind },
    #[error("the certificate PEM holds no certificate")]
    NoCertificate,
    #[error("the key PEM holds no private key")]
    NoPrivateKey,
    #[error("the certificate or key PEM is malformed")]
    MalformedPem,
    #[error("cannot generate a self-signed certificate: {0}")]
    Generate(String),
    #[error("the certificate and key are not usable together: {0}")]
    Rustls(String),
}

/// A new self-signed certificate for `names` (DNS names or IP addresses), as PEM
/// `(certificate, private key)`, ready to be written to disk.
pub fn generate_self_signed(names: &[String]) -> Result<(String, String), CertificateError> {
    let certified = rcgen::generate_simple_self_signed(names.to_vec())
        .map_err(|e| CertificateError::Generate(e.to_string()))?;
    Ok((certified.cert.pem(), certified.key_pair.serialize_pem()))
}

/// The rustls server settings for `source`: TLS 1.3 and 1.2, no client certificates, no ALPN
/// (so HTTP clients probing the node speak HTTP/1.1 to the fallback website).
pub fn server_config(source: &TlsSource) -> Result<Arc<ServerConfig>, CertificateError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| CertificateError::Rustls(e.to_string()))?
        .with_no_client_auth();
    if let TlsSource::Resolver(resolver) = source {
        return Ok(with_secret_extraction(
            builder.with_cert_resolver(resolver.0.clone()),
        ));
    }
    let (cert_pem, key_pem) = load_pem(source)?;
    let certs = rustls_pemfile::certs(&mut cert_pem.as_bytes())
        .collect::<Result<Vec<CertificateDer<'static>>, _>>()
        .map_err(|_| CertificateError::MalformedPem)?;
    if certs.is_empty() {
        return Err(CertificateError::NoCertificate);
    }
    let key: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut key_pem.as_bytes())
        .map_err(|_| CertificateError::MalformedPem)?
        .ok_or(CertificateError::NoPrivateKey)?;
    let config = builder
        .with_single_cert(certs, key)
        .map_err(|e| CertificateError::Rustls(e.to_string()))?;
    Ok(with_secret_extraction(config))
}

/// TLS 1.3 connections leave rustls after the handshake for the node's own record layer
/// (`tls13`), which needs the traffic keys.
fn with_secret_extraction(mut config: ServerConfig) -> Arc<ServerConfig> {
    config.enable_secret_extraction = true;
    Arc::new(config)
}

fn load_pem(source: &TlsSource) -> Result<(String, String), CertificateError> {
    match source {
        TlsSource::Files { cert, key } => Ok((read(cert)?, read(key)?)),
        TlsSource::Pem { cert, key } => Ok((cert.clone(), key.clone())),
        TlsSource::Reality(_) | TlsSource::Resolver(_) => Err(CertificateError::NoCertificate),
        TlsSource::SelfSigned {
            names,
            persist: None,
        } => generate_self_signed(names),
        TlsSource::SelfSigned {
            names,
            persist: Some(paths),
        } => load_or_create(names, paths),
    }
}

fn load_or_create(
    names: &[String],
    paths: &PersistedCert,
) -> Result<(String, String), CertificateError> {
    if paths.cert.exists() && paths.key.exists() {
        return Ok((read(&paths.cert)?, read(&paths.key)?));
    }
    let (cert, key) = generate_self_signed(names)?;
    write(&paths.cert, &cert, false)?;
    write(&paths.key, &key, true)?;
    Ok((cert, key))
}

fn read(path: &Path) -> Result<String, CertificateError> {
    std::fs::read_to_string(path).map_err(|e| CertificateError::ReadFile {
        path: path.display().to_string(),
        kind: e.kind(),
    })
}

fn write(path: &Path, contents: &str, secret: bool) -> Result<(), CertificateError> {
    use std::io::Write;
    let fail = |e: io::Error| CertificateError::WriteFile {
        path: path.display().to_string(),
        kind: e.kind(),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut file = options.open(path).map_err(fail)?;
    file.write_all(contents.as_bytes()).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_self_signed_certificate_makes_a_server_config() {
        let (cert_pem, key_pem) = generate_self_signed(&["localhost".into()]).unwrap();
        assert!(cert_pem.contains("BEGIN CERTIFICATE"));
        assert!(key_pem.contains("PRIVATE KEY"));
        server_config(&TlsSource::Pem {
            cert: cert_pem,
            key: key_pem,
        })
        .unwrap();
    }

    #[test]
    fn a_persisted_self_signed_certificate_is_reused_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let persist = PersistedCert {
            cert: dir.path().join("data/node-cert.pem"),
            key: dir.path().join("data/node-key.pem"),
        };
        let source = TlsSource::SelfSigned {
            names: vec!["localhost".into()],
            persist: Some(persist.clone()),
        };
        server_config(&source).unwrap();
        let first = std::fs::read_to_string(&persist.cert).unwrap();
        server_config(&source).unwrap();
        let second = std::fs::read_to_string(&persist.cert).unwrap();
        assert_eq!(first, second);
    }

    #[test]
    fn a_key_file_without_a_key_is_refused() {
        let (cert_pem, _) = generate_self_signed(&["localhost".into()]).unwrap();
        let err = server_config(&TlsSource::Pem {
            cert: cert_pem.clone(),
            key: cert_pem,
        })
        .unwrap_err();
        assert!(matches!(err, CertificateError::NoPrivateKey));
    }

    #[test]
    fn a_missing_certificate_file_names_the_file() {
        let err = server_config(&TlsSource::Files {
            cert: "/nonexistent/cert.pem".into(),
            key: "/nonexistent/key.pem".into(),
        })
        .unwrap_err();
        assert!(err.to_string().contains("/nonexistent/cert.pem"));
    }
}
