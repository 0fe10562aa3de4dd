//! The certificate a REALITY server presents: a minimal X.509 certificate for a fresh Ed25519
//! key whose signature field is HMAC-SHA512(AuthKey, public key) instead of a signature.
//!
//! The DER has the shape Go's `x509.CreateCertificate` gives a template holding only serial
//! number 0 (which is what XTLS/REALITY generates): v3, serial 0, Ed25519 algorithm, empty
//! issuer and subject, both validity times Go's zero time (GeneralizedTime 0001-01-01), no
//! extensions.

use hmac::{Hmac, Mac};
use ring::signature::{Ed25519KeyPair, KeyPair};
use sha2::Sha512;

use crate::rng::Rng;
use crate::TlsError;

const ED25519_OID: [u8; 3] = [0x2b, 0x65, 0x70];
const ZERO_TIME: &[u8; 15] = b"00010101000000Z";

/// An Ed25519 key and its certificate template; one per process is enough (REALITY makes
/// one at startup), each connection gets its own HMAC in the signature field.
pub struct RealityCert {
    key: Ed25519KeyPair,
    public: [u8; 32],
    der: Vec<u8>,
}

impl std::fmt::Debug for RealityCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RealityCert").finish_non_exhaustive()
    }
}

fn der(tag: u8, body: &[u8], out: &mut Vec<u8>) {
    out.push(tag);
    let len = body.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend_from_slice(&[0x81, len as u8]);
    } else {
        out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
    }
    out.extend_from_slice(body);
}

fn algorithm() -> Vec<u8> {
    let mut oid = Vec::new();
    der(0x06, &ED25519_OID, &mut oid);
    let mut seq = Vec::new();
    der(0x30, &oid, &mut seq);
    seq
}

impl RealityCert {
    /// A fresh key and certificate.
    pub fn generate(rng: &mut impl Rng) -> RealityCert {
        let seed: [u8; 32] = rng.array();
        // Any 32 bytes are a valid Ed25519 seed.
        let key = Ed25519KeyPair::from_seed_unchecked(&seed).unwrap_or_else(|_| unreachable!());
        let mut public = [0; 32];
        public.copy_from_slice(key.public_key().as_ref());

        let mut tbs = Vec::new();
        der(0xa0, &[0x02, 0x01, 0x02], &mut tbs);
        der(0x02, &[0], &mut tbs);
        tbs.extend_from_slice(&algorithm());
        der(0x30, &[], &mut tbs);
        let mut validity = Vec::new();
        der(0x18, ZERO_TIME, &mut validity);
        der(0x18, ZERO_TIME, &mut validity);
        der(0x30, &validity, &mut tbs);
        der(0x30, &[], &mut tbs);
        let mut spki = algorithm();
        let mut bits = vec![0];
        bits.extend_from_slice(&public);
        der(0x03, &bits, &mut spki);
        der(0x30, &spki, &mut tbs);
        let mut tbs_seq = Vec::new();
        der(0x30, &tbs, &mut tbs_seq);

        let mut body = tbs_seq.clone();
        body.extend_from_slice(&algorithm());
        let mut sig = vec![0];
        sig.extend_from_slice(key.sign(&tbs_seq).as_ref());
        der(0x03, &sig, &mut body);
        let mut cert = Vec::new();
        der(0x30, &body, &mut cert);
        RealityCert {
            key,
            public,
            der: cert,
        }
    }

    /// The Ed25519 public key in the certificate.
    pub fn public_key(&self) -> [u8; 32] {
        self.public
    }

    /// The certificate for one client: the last 64 bytes (the signature value) replaced by
    /// HMAC-SHA512(AuthKey, public key).
    pub fn for_client(&self, auth_key: &[u8; 32]) -> Vec<u8> {
        let mut cert = self.der.clone();
        let at = cert.len() - 64;
        cert[at..].copy_from_slice(&hmac_of(auth_key, &self.public));
        cert
    }

    /// Signs a CertificateVerify input.
    pub(crate) fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.key.sign(message).as_ref().to_vec()
    }
}

fn hmac_of(auth_key: &[u8; 32], public: &[u8; 32]) -> [u8; 64] {
    // HMAC accepts keys of any length.
    let mut mac =
        <Hmac<Sha512> as Mac>::new_from_slice(auth_key).unwrap_or_else(|_| unreachable!());
    mac.update(public);
    mac.finalize().into_bytes().into()
}

/// A DER element: tag and contents.
fn read_der<'a>(input: &mut &'a [u8]) -> Result<(u8, &'a [u8]), TlsError> {
    let bad = TlsError::BadCertificate;
    let (&tag, rest) = input.split_first().ok_or(bad.clone())?;
    let (&first, mut rest) = rest.split_first().ok_or(bad.clone())?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 3 || rest.len() < n {
            return Err(bad);
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| acc << 8 | usize::from(b));
        rest = &rest[n..];
        len
    };
    if rest.len() < len {
        return Err(bad);
    }
    let (body, after) = rest.split_at(len);
    *input = after;
    Ok((tag, body))
}

/// Checks a server's leaf certificate as Xray's REALITY client does: an Ed25519 public key
/// whose certificate signature equals HMAC-SHA512(AuthKey, public key). Returns the key,
/// which must then verify the CertificateVerify.
pub fn verify_reality_certificate(cert: &[u8], auth_key: &[u8; 32]) -> Result<[u8; 32], TlsError> {
    let bad = || TlsError::BadCertificate;
    let mut input = cert;
    let (0x30, mut body) = read_der(&mut input)? else {
        return Err(bad());
    };
    let (0x30, mut tbs) = read_der(&mut body)? else {
        return Err(bad());
    };
    let _algorithm = read_der(&mut body)?;
    let (0x03, signature) = read_der(&mut body)? else {
        return Err(bad());
    };
    // Fields of the TBS: [version], serial, algorithm, issuer, validity, subject, SPKI.
    let (first_tag, _) = read_der(&mut tbs)?;
    if first_tag == 0xa0 {
        read_der(&mut tbs)?;
    }
    for _ in 0..4 {
        read_der(&mut tbs)?;
    }
    let (0x30, mut spki) = read_der(&mut tbs)? else {
        return Err(bad());
    };
    let (0x30, mut alg) = read_der(&mut spki)? else {
        return Err(bad());
    };
    let (0x06, oid) = read_der(&mut alg)? else {
        return Err(bad());
    };
    if oid != ED25519_OID {
        return Err(bad());
    }
    let (0x03, key_bits) = read_der(&mut spki)? else {
        return Err(bad());
    };
    let public: [u8; 32] = key_bits
        .strip_prefix(&[0])
        .and_then(|k| k.try_into().ok())
        .ok_or_else(bad)?;
    let signature = signature.strip_prefix(&[0]).ok_or_else(bad)?;
    let expected = hmac_of(auth_key, &public);
    if !bool::from(subtle::ConstantTimeEq::ct_eq(signature, &expected[..])) {
        return Err(bad());
    }
    Ok(public)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::test_rng;

    #[test]
    fn the_certificate_has_the_size_of_gos_minimal_ed25519_certificate() {
        let cert = RealityCert::generate(&mut test_rng(1));
        assert_eq!(cert.for_client(&[1; 32]).len(), 178);
    }

    #[test]
    fn a_client_with_the_same_auth_key_accepts_the_certificate() {
        let cert = RealityCert::generate(&mut test_rng(1));
        let der = cert.for_client(&[1; 32]);
        assert_eq!(
            verify_reality_certificate(&der, &[1; 32]),
            Ok(cert.public_key())
        );
    }

    #[test]
    fn a_different_auth_key_rejects_the_certificate() {
        let cert = RealityCert::generate(&mut test_rng(1));
        let der = cert.for_client(&[1; 32]);
        assert_eq!(
            verify_reality_certificate(&der, &[2; 32]),
            Err(TlsError::BadCertificate)
        );
    }

    #[test]
    fn truncated_certificates_are_rejected_without_panicking() {
        let der = RealityCert::generate(&mut test_rng(1)).for_client(&[1; 32]);
        for cut in 0..der.len() {
            assert!(verify_reality_certificate(&der[..cut], &[1; 32]).is_err());
        }
    }
}
