//! REALITY key pairs and their text form: X25519 keys as unpadded base64url, as `xray x25519`
//! prints them and as share links carry the public key (`pbk=`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use x25519_dalek::{PublicKey, StaticSecret};

use crate::rng::Rng;

/// A key in configuration or a link is not 32 bytes of base64url.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an X25519 key is 43 characters of unpadded base64url (32 bytes)")]
pub struct KeyFormatError;

/// A new X25519 private key (clamped as Xray's `x25519` command clamps it).
pub fn generate_private_key(rng: &mut impl Rng) -> [u8; 32] {
    let mut key: [u8; 32] = rng.array();
    key[0] &= 248;
    key[31] &= 127;
    key[31] |= 64;
    key
}

/// The public key of a private key.
pub fn public_key(private_key: &[u8; 32]) -> [u8; 32] {
    PublicKey::from(&StaticSecret::from(*private_key)).to_bytes()
}

/// Unpadded base64url, the form Xray prints and links carry.
pub fn encode_key(key: &[u8; 32]) -> String {
    URL_SAFE_NO_PAD.encode(key)
}

/// Reads a key from its text form; padded input and standard-alphabet input are refused.
pub fn decode_key(text: &str) -> Result<[u8; 32], KeyFormatError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(text.trim())
        .map_err(|_| KeyFormatError)?;
    bytes.try_into().map_err(|_| KeyFormatError)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::test_rng;

    #[test]
    fn a_key_survives_its_text_form() {
        let private = generate_private_key(&mut test_rng(9));
        let text = encode_key(&private);
        assert_eq!(text.len(), 43);
        assert_eq!(decode_key(&text), Ok(private));
    }

    #[test]
    fn the_public_key_of_a_known_private_key_matches_rfc_7748() {
        // RFC 7748 section 6.1, Alice's key pair.
        let private: [u8; 32] =
            hex::decode("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
                .unwrap()
                .try_into()
                .unwrap();
        let public =
            hex::decode("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
                .unwrap();
        assert_eq!(public_key(&private).to_vec(), public);
    }

    #[test]
    fn wrong_lengths_and_alphabets_are_refused() {
        assert_eq!(decode_key("abc"), Err(KeyFormatError));
        assert_eq!(
            decode_key(&format!("{}=", encode_key(&[1; 32]))),
            Err(KeyFormatError)
        );
        assert_eq!(
            decode_key("++++++++++++++++++++++++++++++++++++++++++8"),
            Err(KeyFormatError)
        );
    }
}
