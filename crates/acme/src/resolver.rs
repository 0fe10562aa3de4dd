//! The certificate rustls presents, swapped in place when a renewal lands: every server built
//! with this resolver serves the new certificate from its next handshake on.

use std::sync::Arc;

use arc_swap::ArcSwapOption;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::Certificate;

/// Presents the current certificate to every client (it covers all the configured names);
/// before the first one is issued, handshakes fail.
#[derive(Default)]
pub struct CertResolver {
    current: ArcSwapOption<CertifiedKey>,
}

impl std::fmt::Debug for CertResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertResolver")
            .field("ready", &self.is_ready())
            .finish()
    }
}

impl CertResolver {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn install(&self, certificate: &Certificate) {
        self.current.store(Some(certificate.certified_key()));
    }

    /// A certificate is there to present.
    pub fn is_ready(&self) -> bool {
        self.current.load().is_some()
    }
}

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.current.load_full()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certificate::tests::pem_valid;

    #[test]
    fn an_installed_certificate_replaces_the_one_before() {
        let resolver = CertResolver::new();
        assert!(!resolver.is_ready());
        let (chain, key) = pem_valid("a.example", 1_700_000_000, 90);
        let first = Certificate::from_pem(&chain, &key).unwrap();
        resolver.install(&first);
        let (chain, key) = pem_valid("a.example", 1_700_000_100, 90);
        let second = Certificate::from_pem(&chain, &key).unwrap();
        resolver.install(&second);
        let now = resolver.current.load_full().unwrap();
        assert_eq!(now.cert, second.certified_key().cert);
        assert_ne!(now.cert, first.certified_key().cert);
    }
}
