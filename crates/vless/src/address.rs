//! Destination addresses as VLESS and Mux.Cool carry them: port first, then a typed address.
//!
//! Wire layout (big-endian), shared by the VLESS request and Mux.Cool frames:
//!
//! ```text
//! port: u16
//! type: u8     1 = IPv4, 2 = domain, 3 = IPv6
//! IPv4: [u8; 4]
//! domain: len: u8 (1..=255), then `len` bytes of [0-9A-Za-z._-]
//! IPv6: [u8; 16]
//! ```
//!
//! As in Xray-core, a "domain" that is an IP literal (`1.2.3.4`, `[::1]`) is read as that IP,
//! so egress checks see the real address.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::parse::{Reader, Stop};

const TYPE_IPV4: u8 = 1;
const TYPE_DOMAIN: u8 = 2;
const TYPE_IPV6: u8 = 3;

/// The longest domain the one-byte length can carry.
pub const MAX_DOMAIN_LEN: usize = 255;

/// Where a client wants to go. `Debug` does not print the address (it must never reach a log).
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Address {
    Ipv4(Ipv4Addr),
    Ipv6(Ipv6Addr),
    /// A domain name of 1..=255 bytes from `[0-9A-Za-z._-]`; build it with [`Address::domain`].
    Domain(String),
}

/// An address and a port. `Debug` does not print either.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Destination {
    pub address: Address,
    pub port: u16,
}

/// Why an address could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("unknown address type {0}")]
    UnknownAddressType(u8),
    #[error("empty domain name")]
    EmptyDomain,
    #[error("domain name is too long or has characters outside [0-9A-Za-z._-]")]
    InvalidDomain,
}

impl Address {
    /// Validates a domain name as Xray-core does; an IP literal becomes the IP variant.
    pub fn domain(name: &str) -> Result<Address, AddressError> {
        if name.is_empty() {
            return Err(AddressError::EmptyDomain);
        }
        if name.len() > MAX_DOMAIN_LEN {
            return Err(AddressError::InvalidDomain);
        }
        if let Some(ip) = ip_literal(name) {
            return Ok(ip);
        }
        if !name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_'))
        {
            return Err(AddressError::InvalidDomain);
        }
        Ok(Address::Domain(name.to_owned()))
    }

    fn kind(&self) -> &'static str {
        match self {
            Address::Ipv4(_) => "Ipv4",
            Address::Ipv6(_) => "Ipv6",
            Address::Domain(_) => "Domain",
        }
    }
}

/// Xray tries IP parsing only when the name starts with a digit or `[`.
fn ip_literal(name: &str) -> Option<Address> {
    let first = name.as_bytes().first()?;
    if *first != b'[' && !first.is_ascii_digit() {
        return None;
    }
    let bare = name
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(name);
    if let Ok(v4) = bare.parse::<Ipv4Addr>() {
        return Some(Address::Ipv4(v4));
    }
    bare.parse::<Ipv6Addr>().ok().map(Address::Ipv6)
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(<redacted>)", self.kind())
    }
}

impl fmt::Debug for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Destination({}(<redacted>))", self.address.kind())
    }
}

/// Reads `port, type, address`.
pub(crate) fn read_destination(reader: &mut Reader<'_>) -> Result<Destination, Stop<AddressError>> {
    let port = reader.u16()?;
    let address = read_address(reader)?;
    Ok(Destination { address, port })
}

fn read_address(reader: &mut Reader<'_>) -> Result<Address, Stop<AddressError>> {
    match reader.u8()? {
        TYPE_IPV4 => Ok(Address::Ipv4(Ipv4Addr::from(reader.array::<4, _>()?))),
        TYPE_IPV6 => Ok(Address::Ipv6(Ipv6Addr::from(reader.array::<16, _>()?))),
        TYPE_DOMAIN => {
            let len = usize::from(reader.u8()?);
            if len == 0 {
                return Err(Stop::Invalid(AddressError::EmptyDomain));
            }
            let bytes = reader.take(len)?;
            let name = std::str::from_utf8(bytes)
                .map_err(|_| Stop::Invalid(AddressError::InvalidDomain))?;
            Address::domain(name).map_err(Stop::Invalid)
        }
        other => Err(Stop::Invalid(AddressError::UnknownAddressType(other))),
    }
}

/// Writes `port, type, address`.
///
/// # Panics
/// If a domain is longer than [`MAX_DOMAIN_LEN`] bytes. No decoder produces one and
/// [`Address::domain`] refuses one, so this is a programming error, not an input error.
pub(crate) fn write_destination(destination: &Destination, out: &mut Vec<u8>) {
    out.extend_from_slice(&destination.port.to_be_bytes());
    match &destination.address {
        Address::Ipv4(ip) => {
            out.push(TYPE_IPV4);
            out.extend_from_slice(&ip.octets());
        }
        Address::Ipv6(ip) => {
            out.push(TYPE_IPV6);
            out.extend_from_slice(&ip.octets());
        }
        Address::Domain(name) => {
            let len = u8::try_from(name.len())
                .unwrap_or_else(|_| panic!("a VLESS domain is at most {MAX_DOMAIN_LEN} bytes"));
            out.push(TYPE_DOMAIN);
            out.push(len);
            out.extend_from_slice(name.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8]) -> Result<Destination, Stop<AddressError>> {
        read_destination(&mut Reader::new(bytes))
    }

    #[test]
    fn a_domain_destination_reads_port_first() {
        let got = read(&[
            0x01, 0xbb, 2, 11, b'e', b'x', b'a', b'm', b'p', b'l', b'e', b'.', b'c', b'o', b'm',
        ]);
        let want = Destination {
            address: Address::Domain("example.com".into()),
            port: 443,
        };
        assert!(matches!(got, Ok(d) if d == want));
    }

    #[test]
    fn an_ip_literal_sent_as_a_domain_reads_as_that_ip() {
        let got = read(&[0, 80, 2, 7, b'1', b'.', b'2', b'.', b'3', b'.', b'4']);
        assert!(matches!(got, Ok(d) if d.address == Address::Ipv4(Ipv4Addr::new(1, 2, 3, 4))));
        assert_eq!(
            Address::domain("[::1]"),
            Ok(Address::Ipv6(Ipv6Addr::LOCALHOST))
        );
    }

    #[test]
    fn an_empty_domain_is_refused() {
        assert!(matches!(
            read(&[0, 80, 2, 0]),
            Err(Stop::Invalid(AddressError::EmptyDomain))
        ));
    }

    #[test]
    fn a_domain_with_a_space_or_slash_is_refused() {
        assert_eq!(Address::domain("a b"), Err(AddressError::InvalidDomain));
        assert_eq!(Address::domain("a/b"), Err(AddressError::InvalidDomain));
        assert!(matches!(
            read(&[0, 80, 2, 2, 0xff, 0xfe]),
            Err(Stop::Invalid(AddressError::InvalidDomain))
        ));
    }

    #[test]
    fn an_unknown_address_type_is_refused() {
        assert!(matches!(
            read(&[0, 80, 4]),
            Err(Stop::Invalid(AddressError::UnknownAddressType(4)))
        ));
    }

    #[test]
    fn a_truncated_ipv6_address_needs_more() {
        assert!(matches!(read(&[0, 80, 3, 0, 0, 0]), Err(Stop::Incomplete)));
    }

    #[test]
    fn debug_output_never_shows_the_address() {
        let d = Destination {
            address: Address::Domain("secret.example".into()),
            port: 8443,
        };
        let shown = format!("{d:?}");
        assert!(
            !shown.contains("secret") && !shown.contains("8443"),
            "{shown}"
        );
    }

    #[test]
    fn writing_then_reading_an_ipv6_destination_gives_it_back() {
        let d = Destination {
            address: Address::Ipv6("2001:db8::1".parse().unwrap()),
            port: 53,
        };
        let mut out = Vec::new();
        write_destination(&d, &mut out);
        assert_eq!(out.len(), 2 + 1 + 16);
        assert!(matches!(read(&out), Ok(back) if back == d));
    }
}
