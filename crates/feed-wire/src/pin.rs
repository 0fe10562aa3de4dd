//! A certificate pin: the SHA-256 of a certificate's DER, the one way both sides name a certificate.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// The SHA-256 of a certificate's DER encoding. The node pins the control plane's certificate
/// with it; the control plane knows each node by the pin of its client certificate.
#[derive(Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct CertPin(pub [u8; 32]);

impl CertPin {
    /// The pin of the certificate `der` (one X.509 certificate in DER, as TLS sends it).
    pub fn of_der(der: &[u8]) -> Self {
        CertPin(Sha256::digest(der).into())
    }

    /// Whether `der` is the pinned certificate.
    pub fn matches(&self, der: &[u8]) -> bool {
        *self == Self::of_der(der)
    }
}

/// Lowercase hex, 64 characters (as `node.toml` holds it).
impl fmt::Display for CertPin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// A pin is public (it names a certificate, it opens nothing): printed in full.
impl fmt::Debug for CertPin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CertPin({self})")
    }
}

/// A pin's text is not 64 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a certificate pin is 64 hex digits (a SHA-256)")]
pub struct PinError;

impl FromStr for CertPin {
    type Err = PinError;

    fn from_str(s: &str) -> Result<Self, PinError> {
        let bytes = hex::decode(s.trim()).map_err(|_| PinError)?;
        bytes.try_into().map(CertPin).map_err(|_| PinError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pin_is_the_sha256_of_the_der() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        let pin = CertPin::of_der(b"abc");
        assert_eq!(
            pin.to_string(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(pin.matches(b"abc"));
        assert!(!pin.matches(b"abd"));
    }

    #[test]
    fn a_pin_survives_its_text_form_and_bad_text_is_refused() {
        let pin = CertPin::of_der(b"certificate");
        assert_eq!(pin.to_string().parse::<CertPin>(), Ok(pin));
        assert_eq!("ab".parse::<CertPin>(), Err(PinError));
        assert_eq!("zz".repeat(32).parse::<CertPin>(), Err(PinError));
        assert_eq!("00".repeat(33).parse::<CertPin>(), Err(PinError));
    }
}
