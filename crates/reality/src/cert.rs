//! The certificate a REALITY server presents: a minimal X.509 certificate for a fresh Ed25519
//! key whose signature field is HMAC-SHA512(AuthKey, public key) instead of a signature.
//!
//! The DER has the shape Go's `x509.CreateCertificate` gives a template holding only serial
//! number 0 (which is what XTLS/REALITY generates): v3, serial 0, Ed25519 algorithm, empty
//! issuer and subject, both validity times Go's zero time (GeneralizedTime 0001-01-01), no
//! extensions.
//!
//! With an ML-DSA-65 key (Xray's `mldsa65Seed`) the template also carries one extension,
//! OID 0.0 with 3309 zero bytes, whose value (at offset 126, as in XTLS/REALITY) receives
//! the ML-DSA-65 signature of HMAC-SHA512(AuthKey, public key ‖ ClientHello ‖ ServerHello),
//! the two hellos being the handshake messages with their 4-byte headers, as sent.

use hmac::{Hmac, Mac};
use ring::signature::{Ed25519KeyPair, KeyPair};
use sha2::Sha512;

use crate::mldsa65::{Mldsa65PublicKey, Mldsa65SigningKey, MLDSA65_SIGNATURE_LEN};
use crate::rng::Rng;
use crate::TlsError;

const ED25519_OID: [u8; 3] = [0x2b, 0x65, 0x70];
const ZERO_TIME: &[u8; 15] = b"00010101000000Z";
/// The extension that holds the ML-DSA-65 signature: OID 0.0.
const MLDSA65_EXTENSION_OID: [u8; 1] = [0x00];

/// An Ed25519 key and its certificate template; one per process is enough (REALITY makes
/// one at startup), each connection gets its own HMAC in the signature field.
pub struct RealityCert {
    key: Ed25519KeyPair,
    public: [u8; 32],
    der: Vec<u8>,
    /// The ML-DSA-65 key and where its signature goes in `der`.
    mldsa65: Option<(Mldsa65SigningKey, usize)>,
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
        RealityCert::build(rng, None)
    }

    /// A fresh key and the certificate that also carries an ML-DSA-65 signature.
    pub fn generate_with_mldsa65(rng: &mut impl Rng, mldsa65: Mldsa65SigningKey) -> RealityCert {
        RealityCert::build(rng, Some(mldsa65))
    }

    fn build(rng: &mut impl Rng, mldsa65: Option<Mldsa65SigningKey>) -> RealityCert {
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
        if mldsa65.is_some() {
            let mut extension = Vec::new();
            der(0x06, &MLDSA65_EXTENSION_OID, &mut extension);
            der(0x04, &[0; MLDSA65_SIGNATURE_LEN], &mut extension);
            let mut one = Vec::new();
            der(0x30, &extension, &mut one);
            let mut list = Vec::new();
            der(0x30, &one, &mut list);
            der(0xa3, &list, &mut tbs);
        }
        let mut tbs_seq = Vec::new();
        der(0x30, &tbs, &mut tbs_seq);

        let mut body = tbs_seq.clone();
        body.extend_from_slice(&algorithm());
        let mut sig = vec![0];
        sig.extend_from_slice(key.sign(&tbs_seq).as_ref());
        der(0x03, &sig, &mut body);
        let mut cert = Vec::new();
        der(0x30, &body, &mut cert);
        // The extension is the TBS's last element, so its value ends where the TBS does.
        let tbs_end = cert.len() - body.len() + tbs_seq.len();
        let mldsa65 = mldsa65.map(|k| (k, tbs_end - MLDSA65_SIGNATURE_LEN));
        RealityCert {
            key,
            public,
            der: cert,
            mldsa65,
        }
    }

    /// The Ed25519 public key in the certificate.
    pub fn public_key(&self) -> [u8; 32] {
        self.public
    }

    /// The ML-DSA-65 public key clients verify with, if the certificate carries one.
    pub fn mldsa65_public_key(&self) -> Option<Mldsa65PublicKey> {
        self.mldsa65.as_ref().map(|(key, _)| key.public_key())
    }

    /// The certificate for one client: the last 64 bytes (the signature value) replaced by
    /// HMAC-SHA512(AuthKey, public key). No ML-DSA-65 signature: see
    /// [`RealityCert::for_handshake`].
    pub fn for_client(&self, auth_key: &[u8; 32]) -> Vec<u8> {
        let mut cert = self.der.clone();
        let at = cert.len() - 64;
        cert[at..].copy_from_slice(&hmac_of(auth_key, &self.public).finalize().into_bytes());
        cert
    }

    /// The certificate for one handshake: [`RealityCert::for_client`], and with an ML-DSA-65
    /// key its signature over the HMAC continued over both hellos (messages with headers).
    pub fn for_handshake(
        &self,
        auth_key: &[u8; 32],
        client_hello: &[u8],
        server_hello: &[u8],
    ) -> Result<Vec<u8>, TlsError> {
        let mut cert = self.for_client(auth_key);
        if let Some((key, at)) = &self.mldsa65 {
            let digest = handshake_digest(auth_key, &self.public, client_hello, server_hello);
            let signature = key.sign(&digest).ok_or(TlsError::Mldsa65Sign)?;
            cert.get_mut(*at..*at + MLDSA65_SIGNATURE_LEN)
                .ok_or(TlsError::Mldsa65Sign)?
                .copy_from_slice(&signature);
        }
        Ok(cert)
    }

    /// Signs a CertificateVerify input.
    pub(crate) fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.key.sign(message).as_ref().to_vec()
    }
}

fn hmac_of(auth_key: &[u8; 32], public: &[u8; 32]) -> Hmac<Sha512> {
    // HMAC accepts keys of any length.
    let mut mac =
        <Hmac<Sha512> as Mac>::new_from_slice(auth_key).unwrap_or_else(|_| unreachable!());
    mac.update(public);
    mac
}

/// What the ML-DSA-65 signature signs: the certificate's HMAC continued over both hellos.
fn handshake_digest(
    auth_key: &[u8; 32],
    public: &[u8; 32],
    client_hello: &[u8],
    server_hello: &[u8],
) -> [u8; 64] {
    let mut mac = hmac_of(auth_key, public);
    mac.update(client_hello);
    mac.update(server_hello);
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

/// What a REALITY client reads from the leaf certificate.
struct Fields<'a> {
    public: [u8; 32],
    signature: &'a [u8],
    /// The value of the first extension, where Xray looks for the ML-DSA-65 signature.
    first_extension: Option<&'a [u8]>,
}

fn parse(cert: &[u8]) -> Result<Fields<'_>, TlsError> {
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
    // Fields of the TBS: [version], serial, algorithm, issuer, validity, subject, SPKI,
    // then optional [1] and [2] unique ids and [3] extensions.
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
    let mut first_extension = None;
    while !tbs.is_empty() {
        let (tag, mut extensions) = read_der(&mut tbs)?;
        if tag != 0xa3 {
            continue;
        }
        let (0x30, mut list) = read_der(&mut extensions)? else {
            return Err(bad());
        };
        if list.is_empty() {
            break;
        }
        let (0x30, mut extension) = read_der(&mut list)? else {
            return Err(bad());
        };
        let (0x06, _oid) = read_der(&mut extension)? else {
            return Err(bad());
        };
        let (mut tag, mut value) = read_der(&mut extension)?;
        if tag == 0x01 {
            (tag, value) = read_der(&mut extension)?;
        }
        if tag != 0x04 {
            return Err(bad());
        }
        first_extension = Some(value);
        break;
    }
    Ok(Fields {
        public,
        signature,
        first_extension,
    })
}

/// Checks a server's leaf certificate as Xray's REALITY client does: an Ed25519 public key
/// whose certificate signature equals HMAC-SHA512(AuthKey, public key). Returns the key,
/// which must then verify the CertificateVerify.
pub fn verify_reality_certificate(cert: &[u8], auth_key: &[u8; 32]) -> Result<[u8; 32], TlsError> {
    let fields = parse(cert)?;
    check_hmac(&fields, auth_key)?;
    Ok(fields.public)
}

fn check_hmac(fields: &Fields<'_>, auth_key: &[u8; 32]) -> Result<(), TlsError> {
    let expected = hmac_of(auth_key, &fields.public).finalize().into_bytes();
    if !bool::from(subtle::ConstantTimeEq::ct_eq(
        fields.signature,
        &expected[..],
    )) {
        return Err(TlsError::BadCertificate);
    }
    Ok(())
}

/// [`verify_reality_certificate`], and then, as Xray's client with `mldsa65Verify` does, the
/// ML-DSA-65 signature in the first extension over HMAC-SHA512(AuthKey, public key ‖
/// `client_hello` ‖ `server_hello`) (handshake messages with headers, as sent and received).
pub fn verify_reality_certificate_mldsa65(
    cert: &[u8],
    auth_key: &[u8; 32],
    key: &Mldsa65PublicKey,
    client_hello: &[u8],
    server_hello: &[u8],
) -> Result<[u8; 32], TlsError> {
    let fields = parse(cert)?;
    check_hmac(&fields, auth_key)?;
    let signature = fields
        .first_extension
        .ok_or(TlsError::BadMldsa65Signature)?;
    let digest = handshake_digest(auth_key, &fields.public, client_hello, server_hello);
    if !key.verify(&digest, signature) {
        return Err(TlsError::BadMldsa65Signature);
    }
    Ok(fields.public)
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

    fn mldsa65_cert() -> RealityCert {
        RealityCert::generate_with_mldsa65(&mut test_rng(1), Mldsa65SigningKey::from_seed(&[3; 32]))
    }

    #[test]
    fn the_mldsa65_certificate_has_gos_length_and_the_signature_at_offset_126() {
        let cert = mldsa65_cert();
        let der = cert.for_handshake(&[1; 32], b"ch", b"sh").unwrap();
        assert_eq!(der.len(), 3509);
        assert_eq!(cert.mldsa65.as_ref().map(|(_, at)| *at), Some(126));
        assert_eq!(&der[119..126], &[0x06, 0x01, 0x00, 0x04, 0x82, 0x0c, 0xed]);
        let fields = parse(&der).unwrap();
        assert_eq!(fields.first_extension, Some(&der[126..126 + 3309]));
    }

    #[test]
    fn a_client_with_the_public_key_accepts_the_signed_handshake() {
        let cert = mldsa65_cert();
        let public = cert.mldsa65_public_key().unwrap();
        let der = cert.for_handshake(&[1; 32], b"ch", b"sh").unwrap();
        assert_eq!(
            verify_reality_certificate_mldsa65(&der, &[1; 32], &public, b"ch", b"sh"),
            Ok(cert.public_key())
        );
        assert_eq!(
            verify_reality_certificate(&der, &[1; 32]),
            Ok(cert.public_key())
        );
    }

    #[test]
    fn another_handshake_or_key_fails_the_mldsa65_check() {
        let cert = mldsa65_cert();
        let public = cert.mldsa65_public_key().unwrap();
        let der = cert.for_handshake(&[1; 32], b"ch", b"sh").unwrap();
        let wrong = Mldsa65SigningKey::from_seed(&[4; 32]).public_key();
        let check =
            |key, ch: &[u8]| verify_reality_certificate_mldsa65(&der, &[1; 32], key, ch, b"sh");
        assert_eq!(check(&wrong, b"ch"), Err(TlsError::BadMldsa65Signature));
        assert_eq!(check(&public, b"cH"), Err(TlsError::BadMldsa65Signature));
    }

    #[test]
    fn a_certificate_without_the_extension_fails_the_mldsa65_check() {
        let public = mldsa65_cert().mldsa65_public_key().unwrap();
        let der = RealityCert::generate(&mut test_rng(1))
            .for_handshake(&[1; 32], b"ch", b"sh")
            .unwrap();
        assert_eq!(der.len(), 178);
        assert_eq!(
            verify_reality_certificate_mldsa65(&der, &[1; 32], &public, b"ch", b"sh"),
            Err(TlsError::BadMldsa65Signature)
        );
    }

    #[test]
    fn truncated_mldsa65_certificates_are_rejected_without_panicking() {
        let cert = mldsa65_cert();
        let public = cert.mldsa65_public_key().unwrap();
        let der = cert.for_handshake(&[1; 32], b"ch", b"sh").unwrap();
        for cut in 0..der.len() {
            let result =
                verify_reality_certificate_mldsa65(&der[..cut], &[1; 32], &public, b"ch", b"sh");
            assert!(result.is_err());
        }
    }

    #[test]
    fn truncated_certificates_are_rejected_without_panicking() {
        let der = RealityCert::generate(&mut test_rng(1)).for_client(&[1; 32]);
        for cut in 0..der.len() {
            assert!(verify_reality_certificate(&der[..cut], &[1; 32]).is_err());
        }
    }
}
