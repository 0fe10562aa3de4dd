//! The rustls settings of the website's HTTPS intake: the certificate from a resolver (so a
//! renewal is served from the next handshake on), HTTP/1.1 only, like the plain intakes.

use std::sync::Arc;

use rustls::server::ResolvesServerCert;
use rustls::ServerConfig;

/// A TLS 1.3 and 1.2 acceptor presenting whatever `certificates` resolves at each handshake.
pub fn tls_intake(
    certificates: Arc<dyn ResolvesServerCert>,
) -> Result<tokio_rustls::TlsAcceptor, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_cert_resolver(certificates);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}
