//! An issued certificate: its PEM chain and key, its validity window, when to renew it, and the
//! rustls `CertifiedKey` servers present. Sans-I/O: the clock is passed in.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;

/// Why a stored or freshly issued certificate cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CertificateError {
    #[error("the certificate PEM holds no certificate")]
    NoCertificate,
    #[error("the key PEM holds no private key")]
    NoPrivateKey,
    #[error("the certificate or key PEM is malformed")]
    MalformedPem,
    #[error("the certificate cannot be parsed")]
    MalformedCertificate,
    #[error("the key is not usable: {0}")]
    Key(String),
}

/// A certificate chain with its private key, as the CA issued it.
#[derive(Clone)]
pub struct Certificate {
    chain_pem: String,
    key_pem: String,
    not_before: SystemTime,
    not_after: SystemTime,
    certified: Arc<CertifiedKey>,
}

impl std::fmt::Debug for Certificate {
    // The key never prints.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certificate")
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

impl Certificate {
    /// The chain (leaf first) and key as PEM, checked to parse and to make a signing key.
    pub fn from_pem(chain_pem: &str, key_pem: &str) -> Result<Self, CertificateError> {
        let chain = rustls_pemfile::certs(&mut chain_pem.as_bytes())
            .collect::<Result<Vec<CertificateDer<'static>>, _>>()
            .map_err(|_| CertificateError::MalformedPem)?;
        let leaf = chain.first().ok_or(CertificateError::NoCertificate)?;
        let (not_before, not_after) = validity(leaf)?;
        let key: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut key_pem.as_bytes())
            .map_err(|_| CertificateError::MalformedPem)?
            .ok_or(CertificateError::NoPrivateKey)?;
        let provider = rustls::crypto::ring::default_provider();
        let certified = CertifiedKey::from_der(chain, key, &provider)
            .map_err(|e| CertificateError::Key(e.to_string()))?;
        Ok(Self {
            chain_pem: chain_pem.to_owned(),
            key_pem: key_pem.to_owned(),
            not_before,
            not_after,
            certified: Arc::new(certified),
        })
    }

    pub fn chain_pem(&self) -> &str {
        &self.chain_pem
    }

    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }

    pub fn not_after(&self) -> SystemTime {
        self.not_after
    }

    pub(crate) fn certified_key(&self) -> Arc<CertifiedKey> {
        self.certified.clone()
    }

    /// When to order the next one: once less than a third of the lifetime is left (Let's
    /// Encrypt's advice: 30 days of 90), so a failing CA leaves weeks of retries.
    pub fn renew_at(&self) -> SystemTime {
        let lifetime = self
            .not_after
            .duration_since(self.not_before)
            .unwrap_or(Duration::ZERO);
        self.not_before + lifetime.mul_f64(2.0 / 3.0)
    }

    /// Still worth serving at `now`: not expired and not yet due for renewal.
    pub fn is_fresh(&self, now: SystemTime) -> bool {
        now < self.renew_at()
    }
}

/// The leaf's notBefore and notAfter.
fn validity(leaf: &CertificateDer<'_>) -> Result<(SystemTime, SystemTime), CertificateError> {
    let (_, parsed) = x509_parser::parse_x509_certificate(leaf.as_ref())
        .map_err(|_| CertificateError::MalformedCertificate)?;
    let at = |t: x509_parser::time::ASN1Time| {
        u64::try_from(t.timestamp())
            .map(|secs| UNIX_EPOCH + Duration::from_secs(secs))
            .map_err(|_| CertificateError::MalformedCertificate)
    };
    let validity = parsed.validity();
    Ok((at(validity.not_before)?, at(validity.not_after)?))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A self-signed certificate for `name` valid from `from` (Unix seconds) for `days`.
    pub(crate) fn pem_valid(name: &str, from: i64, days: i64) -> (String, String) {
        let mut params = rcgen::CertificateParams::new(vec![name.to_owned()]).unwrap();
        params.not_before = time::OffsetDateTime::from_unix_timestamp(from).unwrap();
        params.not_after = params.not_before + time::Duration::days(days);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    const DAY: u64 = 86_400;

    #[test]
    fn a_ninety_day_certificate_is_renewed_with_thirty_days_left() {
        let from = 1_700_000_000;
        let (chain, key) = pem_valid("vpn.example.com", from, 90);
        let cert = Certificate::from_pem(&chain, &key).unwrap();
        let start = UNIX_EPOCH + Duration::from_secs(from as u64);
        assert_eq!(cert.renew_at(), start + Duration::from_secs(60 * DAY));
        assert!(cert.is_fresh(start + Duration::from_secs(59 * DAY)));
        assert!(!cert.is_fresh(start + Duration::from_secs(60 * DAY)));
    }

    #[test]
    fn a_key_that_is_not_a_key_is_refused() {
        let (chain, _) = pem_valid("vpn.example.com", 1_700_000_000, 90);
        let err = Certificate::from_pem(&chain, &chain).unwrap_err();
        assert!(matches!(err, CertificateError::NoPrivateKey));
    }

    #[test]
    fn an_empty_chain_is_refused() {
        let (_, key) = pem_valid("vpn.example.com", 1_700_000_000, 90);
        let err = Certificate::from_pem("", &key).unwrap_err();
        assert!(matches!(err, CertificateError::NoCertificate));
    }

    #[test]
    fn the_key_never_prints() {
        let (chain, key) = pem_valid("vpn.example.com", 1_700_000_000, 90);
        let cert = Certificate::from_pem(&chain, &key).unwrap();
        assert!(!format!("{cert:?}").contains("PRIVATE"));
    }
}
