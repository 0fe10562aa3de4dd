//! The join string: one URL-safe line that tells a new node where the control plane is, which certificate it has, and its one-time token.

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use domain::{CertPin, JoinToken};

/// What every join string starts with; the digit is the format's version.
pub const JOIN_PREFIX: &str = "milly-join1.";

/// Longest `host:port` accepted: a DNS name (253) or a bracketed IPv6 address, and a port.
const MAX_ADDRESS: usize = 261;

/// Why a join string (or the parts of a new one) is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoinError {
    #[error("a join string starts with {JOIN_PREFIX}")]
    Prefix,
    #[error("a join string is {JOIN_PREFIX} and unpadded base64url")]
    Base64,
    #[error("the join string is cut short")]
    Truncated,
    #[error("the control plane's address in the join string is not host:port")]
    Address,
}

/// Where a new node dials, which certificate it accepts there, and its one-time token.
///
/// Text form: `milly-join1.` + unpadded base64url of the token (32 bytes), the certificate pin
/// (32 bytes) and the address (UTF-8, the rest). `Debug` never prints the token.
#[derive(Clone, PartialEq, Eq)]
pub struct JoinString {
    address: String,
    pin: CertPin,
    token: JoinToken,
}

impl JoinString {
    /// A join string for the control plane at `address` (`host:port`).
    pub fn new(address: &str, pin: CertPin, token: JoinToken) -> Result<Self, JoinError> {
        check_address(address)?;
        Ok(JoinString {
            address: address.to_owned(),
            pin,
            token,
        })
    }

    /// The control plane's `host:port`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The SHA-256 of the control plane's TLS certificate.
    pub fn pin(&self) -> CertPin {
        self.pin
    }

    pub fn token(&self) -> JoinToken {
        self.token
    }
}

/// `host:port` with a non-empty host of visible ASCII and a non-zero port.
fn check_address(address: &str) -> Result<(), JoinError> {
    let (host, port) = address.rsplit_once(':').ok_or(JoinError::Address)?;
    let port_ok = port.parse::<u16>().is_ok_and(|p| p != 0);
    let host_ok = !host.is_empty() && host.bytes().all(|b| b.is_ascii_graphic());
    if address.len() <= MAX_ADDRESS && port_ok && host_ok {
        Ok(())
    } else {
        Err(JoinError::Address)
    }
}

impl fmt::Display for JoinString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut bytes = Vec::with_capacity(64 + self.address.len());
        bytes.extend_from_slice(self.token.as_bytes());
        bytes.extend_from_slice(&self.pin.0);
        bytes.extend_from_slice(self.address.as_bytes());
        write!(f, "{JOIN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
    }
}

impl fmt::Debug for JoinString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinString")
            .field("address", &self.address)
            .field("pin", &self.pin)
            .field("token", &self.token)
            .finish()
    }
}

impl FromStr for JoinString {
    type Err = JoinError;

    fn from_str(s: &str) -> Result<Self, JoinError> {
        let body = s
            .trim()
            .strip_prefix(JOIN_PREFIX)
            .ok_or(JoinError::Prefix)?;
        // A join string is short; refuse a pasted novel before decoding it.
        if body.len() > (64 + MAX_ADDRESS).div_ceil(3) * 4 {
            return Err(JoinError::Address);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| JoinError::Base64)?;
        let (token, rest) = bytes
            .split_first_chunk::<32>()
            .ok_or(JoinError::Truncated)?;
        let (pin, address) = rest.split_first_chunk::<32>().ok_or(JoinError::Truncated)?;
        let address = std::str::from_utf8(address).map_err(|_| JoinError::Address)?;
        JoinString::new(address, CertPin(*pin), JoinToken::from_bytes(*token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> JoinString {
        JoinString::new(
            "control.example.com:7443",
            CertPin([0xab; 32]),
            JoinToken::from_bytes([0x5a; 32]),
        )
        .unwrap()
    }

    #[test]
    fn a_join_string_survives_its_text_form_on_one_url_safe_line() {
        let join = sample();
        let text = join.to_string();
        assert!(text.starts_with("milly-join1."));
        assert!(text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)));
        assert_eq!(text.parse::<JoinString>(), Ok(join.clone()));
        assert_eq!(format!("  {text}\n").parse::<JoinString>(), Ok(join));
    }

    #[test]
    fn debug_shows_the_address_and_pin_but_never_the_token() {
        let printed = format!("{:?}", sample());
        assert!(printed.contains("control.example.com:7443"));
        assert!(printed.contains(&"ab".repeat(32)));
        assert!(!printed.contains(&"5a".repeat(4)) && !printed.contains("90, 90"));
        assert!(printed.contains("***"));
    }

    #[test]
    fn ipv6_and_ip_addresses_are_accepted() {
        for address in ["[2001:db8::1]:443", "192.0.2.7:8443", "localhost:1"] {
            let join =
                JoinString::new(address, CertPin([1; 32]), JoinToken::from_bytes([2; 32])).unwrap();
            assert_eq!(
                join.to_string().parse::<JoinString>().unwrap().address(),
                address
            );
        }
    }

    #[test]
    fn broken_join_strings_are_refused_with_their_reason() {
        let text = sample().to_string();
        assert_eq!(
            "milly-join2.AAAA".parse::<JoinString>(),
            Err(JoinError::Prefix)
        );
        assert_eq!(
            "milly-join1.a+b/".parse::<JoinString>(),
            Err(JoinError::Base64)
        );
        assert_eq!(
            text[..JOIN_PREFIX.len() + 60].parse::<JoinString>(),
            Err(JoinError::Truncated)
        );
        let no_port = JoinString::new("host", CertPin([1; 32]), JoinToken::from_bytes([2; 32]));
        assert_eq!(no_port, Err(JoinError::Address));
        for bad in ["host:0", ":443", "host:99999", "a b:1", "host:port"] {
            assert_eq!(
                JoinString::new(bad, CertPin([1; 32]), JoinToken::from_bytes([2; 32])),
                Err(JoinError::Address),
                "{bad}"
            );
        }
        let mut raw = vec![0u8; 64];
        raw.extend_from_slice(&[0xff, b':', b'1']);
        let text = format!("{JOIN_PREFIX}{}", URL_SAFE_NO_PAD.encode(raw));
        assert_eq!(text.parse::<JoinString>(), Err(JoinError::Address));
    }
}
