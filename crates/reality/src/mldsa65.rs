//! ML-DSA-65 (FIPS 204) keys for REALITY's optional post-quantum certificate signature:
//! Xray's `mldsa65Seed` on the server, `mldsa65Verify` on the client (`pqv=` in share links).
//!
//! The server's key is FIPS 204 KeyGen from a 32-byte seed (what `xray mldsa65` prints as
//! `Seed`); signatures are the deterministic variant with an empty context, as circl's
//! `SignTo(key, msg, nil, false, ..)` makes them. Both sides' text form is unpadded base64url.

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ml_dsa::{EncodedVerifyingKey, MlDsa65, Signature, SigningKey, VerifyingKey};

/// Length of an encoded ML-DSA-65 public key.
pub const MLDSA65_PUBLIC_KEY_LEN: usize = 1952;
/// Length of an encoded ML-DSA-65 signature.
pub const MLDSA65_SIGNATURE_LEN: usize = 3309;

/// A public key in configuration or a link is not 1952 bytes of base64url.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an ML-DSA-65 public key is 2603 characters of unpadded base64url (1952 bytes)")]
pub struct Mldsa65KeyError;

/// The server's signing key.
pub struct Mldsa65SigningKey(Box<SigningKey<MlDsa65>>);

impl std::fmt::Debug for Mldsa65SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mldsa65SigningKey").finish_non_exhaustive()
    }
}

impl Mldsa65SigningKey {
    /// FIPS 204 ML-DSA.KeyGen_internal from a 32-byte seed.
    pub fn from_seed(seed: &[u8; 32]) -> Mldsa65SigningKey {
        Mldsa65SigningKey(Box::new(SigningKey::from_seed(&(*seed).into())))
    }

    /// The public key clients verify with.
    pub fn public_key(&self) -> Mldsa65PublicKey {
        let key: &VerifyingKey<MlDsa65> = (*self.0).as_ref();
        Mldsa65PublicKey::from_verifying_key(key.clone())
    }

    /// Deterministic ML-DSA.Sign with an empty context; `None` only if rejection sampling
    /// gave up, which FIPS 204 allows but does not happen in practice.
    pub(crate) fn sign(&self, message: &[u8]) -> Option<[u8; MLDSA65_SIGNATURE_LEN]> {
        let signature = self
            .0
            .expanded_key()
            .sign_deterministic(message, &[])
            .ok()?;
        Some(signature.encode().into())
    }
}

struct PublicInner {
    encoded: Vec<u8>,
    key: VerifyingKey<MlDsa65>,
}

/// The server's public key as a client holds it; cheap to clone.
#[derive(Clone)]
pub struct Mldsa65PublicKey(Arc<PublicInner>);

impl std::fmt::Debug for Mldsa65PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mldsa65PublicKey").finish_non_exhaustive()
    }
}

impl PartialEq for Mldsa65PublicKey {
    fn eq(&self, other: &Mldsa65PublicKey) -> bool {
        self.0.encoded == other.0.encoded
    }
}

impl Eq for Mldsa65PublicKey {}

impl Mldsa65PublicKey {
    fn from_verifying_key(key: VerifyingKey<MlDsa65>) -> Mldsa65PublicKey {
        let encoded = key.encode().to_vec();
        Mldsa65PublicKey(Arc::new(PublicInner { encoded, key }))
    }

    /// A key from its 1952 bytes (any such bytes are a key, as in FIPS 204's pkDecode).
    pub fn from_bytes(bytes: &[u8]) -> Result<Mldsa65PublicKey, Mldsa65KeyError> {
        let encoded =
            EncodedVerifyingKey::<MlDsa65>::try_from(bytes).map_err(|_| Mldsa65KeyError)?;
        Ok(Mldsa65PublicKey::from_verifying_key(VerifyingKey::decode(
            &encoded,
        )))
    }

    /// Reads the text form (unpadded base64url, as Xray prints `Verify` and links carry `pqv`).
    pub fn decode(text: &str) -> Result<Mldsa65PublicKey, Mldsa65KeyError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|_| Mldsa65KeyError)?;
        Mldsa65PublicKey::from_bytes(&bytes)
    }

    /// The text form.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.0.encoded)
    }

    /// The 1952 encoded bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0.encoded
    }

    /// ML-DSA.Verify with an empty context.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(encoded) = ml_dsa::EncodedSignature::<MlDsa65>::try_from(signature) else {
            return false;
        };
        let Some(signature) = Signature::<MlDsa65>::decode(&encoded) else {
            return false;
        };
        self.0.key.verify_with_context(message, &[], &signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_under_the_seeds_public_key_only() {
        let key = Mldsa65SigningKey::from_seed(&[7; 32]);
        let signature = key.sign(b"digest").unwrap();
        assert!(key.public_key().verify(b"digest", &signature));
        assert!(!key.public_key().verify(b"digesT", &signature));
        let other = Mldsa65SigningKey::from_seed(&[8; 32]).public_key();
        assert!(!other.verify(b"digest", &signature));
    }

    #[test]
    fn signing_is_deterministic() {
        let key = Mldsa65SigningKey::from_seed(&[7; 32]);
        assert_eq!(key.sign(b"m"), key.sign(b"m"));
    }

    #[test]
    fn the_public_key_survives_its_text_form() {
        let public = Mldsa65SigningKey::from_seed(&[7; 32]).public_key();
        let text = public.encode();
        assert_eq!(text.len(), 2603);
        assert_eq!(public.as_bytes().len(), MLDSA65_PUBLIC_KEY_LEN);
        assert_eq!(Mldsa65PublicKey::decode(&text), Ok(public));
    }

    #[test]
    fn wrong_lengths_and_garbage_are_refused() {
        assert_eq!(
            Mldsa65PublicKey::decode("AAAA").map(|_| ()),
            Err(Mldsa65KeyError)
        );
        assert_eq!(
            Mldsa65PublicKey::decode("not base64!").map(|_| ()),
            Err(Mldsa65KeyError)
        );
        let public = Mldsa65SigningKey::from_seed(&[7; 32]).public_key();
        assert!(!public.verify(b"m", &[0; 12]));
        assert!(!public.verify(b"m", &[0xff; MLDSA65_SIGNATURE_LEN]));
    }
}
