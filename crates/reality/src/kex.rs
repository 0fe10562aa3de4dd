//! ML-KEM-768 for the X25519MLKEM768 hybrid group that current Chrome (and so uTLS's
//! Chrome fingerprints) offers, and that `dest` may choose.
//!
//! The hybrid share is the ML-KEM part first, then X25519 (1184 + 32 bytes from the client,
//! 1088 + 32 from the server), and the shared secret is ML-KEM's then X25519's (RFC draft
//! draft-kwiatkowski-tls-ecdhe-mlkem, as Go's crypto/tls does).

use kem::Decapsulate;
use ml_kem::kem::{DecapsulationKey, EncapsulationKey};
use ml_kem::{EncapsulateDeterministic, EncodedSizeUser, KemCore, MlKem768, MlKem768Params, B32};

use crate::rng::Rng;

/// Bytes of an ML-KEM-768 encapsulation key.
pub(crate) const EK_LEN: usize = 1184;
/// Bytes of an ML-KEM-768 ciphertext.
pub(crate) const CT_LEN: usize = 1088;

/// A client's ML-KEM-768 decapsulation key.
pub(crate) struct MlKemKey(DecapsulationKey<MlKem768Params>);

impl MlKemKey {
    /// A fresh key pair; returns the key and the encoded encapsulation key.
    pub(crate) fn generate(rng: &mut impl Rng) -> (MlKemKey, Vec<u8>) {
        let d = B32::from(rng.array::<32>());
        let z = B32::from(rng.array::<32>());
        let (dk, ek) = MlKem768::generate_deterministic(&d, &z);
        (MlKemKey(dk), ek.as_bytes().to_vec())
    }

    /// The shared secret in a server's ciphertext; `None` if it has the wrong length.
    pub(crate) fn decapsulate(&self, ciphertext: &[u8]) -> Option<[u8; 32]> {
        let ct = ciphertext.try_into().ok()?;
        let ss = self.0.decapsulate(&ct).ok()?;
        Some(ss.into())
    }
}

/// Encapsulates to a client's key: the ciphertext and the shared secret.
pub(crate) fn encapsulate(
    encapsulation_key: &[u8],
    rng: &mut impl Rng,
) -> Option<(Vec<u8>, [u8; 32])> {
    let encoded = encapsulation_key.try_into().ok()?;
    let ek = EncapsulationKey::<MlKem768Params>::from_bytes(&encoded);
    let m = B32::from(rng.array::<32>());
    let (ct, ss) = ek.encapsulate_deterministic(&m).ok()?;
    Some((ct.to_vec(), ss.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::test_rng;

    #[test]
    fn both_sides_agree_on_the_secret() {
        let mut rng = test_rng(5);
        let (key, ek) = MlKemKey::generate(&mut rng);
        assert_eq!(ek.len(), EK_LEN);
        let (ct, ss) = encapsulate(&ek, &mut rng).unwrap();
        assert_eq!(ct.len(), CT_LEN);
        assert_eq!(key.decapsulate(&ct), Some(ss));
    }

    #[test]
    fn wrong_lengths_are_refused() {
        let mut rng = test_rng(6);
        assert!(encapsulate(&[0; 10], &mut rng).is_none());
        let (key, _) = MlKemKey::generate(&mut rng);
        assert!(key.decapsulate(&[0; 10]).is_none());
    }
}
