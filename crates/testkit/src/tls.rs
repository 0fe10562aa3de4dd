//! TLS for tests: self-signed certificates on disk for reference servers, and a client config
//! that accepts any certificate, as `curl -k` and a scanner do.

use std::io;
use std::path::{Path, PathBuf};

use rustls::ClientConfig;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot generate a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("TLS I/O: {0}")]
    Io(#[from] io::Error),
    #[error("TLS setup: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("{0} is not a valid TLS server name")]
    ServerName(String),
    #[error("timed out")]
    Timeout,
}

/// Writes a self-signed certificate for `names` and its key as `cert.pem` / `key.pem` in `dir`.
pub fn write_self_signed(dir: &Path, names: &[&str]) -> Result<(PathBuf, PathBuf), TlsError> {
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let certified = rcgen::generate_simple_self_signed(names)?;
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, certified.cert.pem())?;
    std::fs::write(&key, certified.key_pair.serialize_pem())?;
    Ok((cert, key))
}

/// A client config that completes the handshake with any certificate but still checks the
/// handshake signatures, like `curl -k`: `milly client`'s for `allowInsecure=1`, without ALPN.
pub fn insecure_client_config() -> Result<ClientConfig, TlsError> {
    Ok(client::any_certificate_config()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_self_signed_pair_is_written_as_pem() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = write_self_signed(dir.path(), &["localhost"]).unwrap();
        assert!(std::fs::read_to_string(cert)
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(std::fs::read_to_string(key)
            .unwrap()
            .contains("PRIVATE KEY-----"));
    }
}
