//! TLS for tests: self-signed certificates on disk for reference servers, and a client that
//! speaks to a node the way a scanner does (no certificate check) to see what it answers.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

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

/// Connects with TLS to `addr` as `server_name` without checking the certificate, sends
/// `request`, and returns everything received until the server closes or `wait` passes.
pub async fn exchange(
    addr: SocketAddr,
    server_name: &str,
    request: &[u8],
    wait: Duration,
) -> Result<Vec<u8>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    let name = ServerName::try_from(server_name.to_owned())
        .map_err(|_| TlsError::ServerName(server_name.to_owned()))?;
    let run = async {
        let tcp = TcpStream::connect(addr).await?;
        let mut tls = TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await?;
        tls.write_all(request).await?;
        tls.flush().await?;
        Ok::<_, TlsError>(tls)
    };
    let mut tls = tokio::time::timeout(wait, run)
        .await
        .map_err(|_| TlsError::Timeout)??;
    let mut received = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let _ = tokio::time::timeout(wait, async {
        // A server that closes without close_notify is still a close for our purpose.
        while let Ok(n) = tls.read(&mut buf).await {
            if n == 0 {
                break;
            }
            received.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    Ok(received)
}

/// Accepts any certificate but still checks the handshake signatures, like `curl -k`.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A VLESS request header (version 0, no addons, TCP to an IPv4 `target`) for `user_id`: what a
/// client with that id sends first, for probing a node without a third-party client.
pub fn vless_tcp_request(user_id: &[u8; 16], target: std::net::SocketAddrV4) -> Vec<u8> {
    let mut v = vec![0u8];
    v.extend_from_slice(user_id);
    v.push(0); // addons length
    v.push(1); // command: TCP
    v.extend_from_slice(&target.port().to_be_bytes());
    v.push(1); // address type: IPv4
    v.extend_from_slice(&target.ip().octets());
    v
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

    #[test]
    fn the_vless_request_follows_the_wire_layout() {
        let v = vless_tcp_request(&[7; 16], "127.0.0.1:8080".parse().unwrap());
        assert_eq!(v.len(), 1 + 16 + 1 + 1 + 2 + 1 + 4);
        assert_eq!(&v[17..], &[0, 1, 0x1f, 0x90, 1, 127, 0, 0, 1]);
    }
}
