//! The VLESS request header a client sends first: who it is, which flow, what to do, where to.
//!
//! Wire layout (big-endian), as Xray-core's `proxy/vless/encoding` reads it:
//!
//! ```text
//! version:     u8        always 0
//! user id:     [u8; 16]  the user's UUID bytes
//! addons len:  u8
//! addons:      [u8; addons len]   protobuf Addons { Flow = 1, Seed = 2 }, see `addons`
//! command:     u8        1 = TCP, 2 = UDP, 3 = Mux (Mux.Cool / XUDP)
//! for TCP and UDP only:
//!   port:      u16
//!   address:   type u8 + address, see `address`
//! ```
//!
//! Whatever follows the header is payload (for UDP framed by `udp`, for Mux by `mux`).

use std::fmt;

use crate::addons::{self, VISION_FLOW};
use crate::address::{self, AddressError, Destination};
use crate::parse::{finish, Parse, Reader, Stop};

/// The only protocol version.
pub const VERSION: u8 = 0;

const COMMAND_TCP: u8 = 1;
const COMMAND_UDP: u8 = 2;
const COMMAND_MUX: u8 = 3;

/// A user id as sent on the wire. `Debug` does not print it (it must never reach a log).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserKey(pub [u8; 16]);

impl UserKey {
    /// The key users are matched by (see [`LookupKey`]).
    pub fn lookup_key(&self) -> LookupKey {
        let mut key = self.0;
        key[6] = 0;
        key[7] = 0;
        LookupKey(key)
    }
}

impl fmt::Debug for UserKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UserKey(<redacted>)")
    }
}

/// The key users are matched by: Xray-core ignores bytes 6 and 7 of the id (the UUID version
/// and variant area), so the id with those two bytes zeroed. `Debug` does not print it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct LookupKey(pub [u8; 16]);

impl fmt::Debug for LookupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LookupKey(<redacted>)")
    }
}

/// What the client asks the server to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    /// Open a TCP connection to the destination and relay bytes.
    Tcp,
    /// Relay UDP datagrams to the destination, each framed by `udp`.
    Udp,
    /// Multiplex sessions with Mux.Cool (XUDP for UDP); there is no destination in the header.
    Mux,
}

/// The flow named in the addons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flow {
    /// No flow (addons absent or flow empty).
    None,
    /// `xtls-rprx-vision`. Xray-core refuses it with [`Command::Udp`] (Vision clients send
    /// UDP as XUDP over [`Command::Mux`]), and refuses an empty flow from a Vision user for
    /// TCP; both are the server's policy, not the codec's.
    Vision,
}

impl Flow {
    /// The flow's name on the wire ("" for none).
    pub fn as_str(self) -> &'static str {
        match self {
            Flow::None => "",
            Flow::Vision => VISION_FLOW,
        }
    }
}

/// A decoded request header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub user: UserKey,
    pub flow: Flow,
    pub command: Command,
    /// `Some` for TCP and UDP, `None` for Mux.
    pub destination: Option<Destination>,
}

/// Why bytes are not a VLESS request. Messages never include input bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("unsupported VLESS version {0}")]
    UnsupportedVersion(u8),
    #[error("unknown VLESS command {0}")]
    UnknownCommand(u8),
    #[error("unknown address type {0}")]
    UnknownAddressType(u8),
    #[error("empty domain name")]
    EmptyDomain,
    #[error("invalid domain name")]
    InvalidDomain,
    #[error("malformed header addons")]
    MalformedAddons,
    /// A flow other than "" and `xtls-rprx-vision`; the name is kept for tests, not for logs.
    #[error("unknown VLESS flow")]
    UnknownFlow(String),
}

impl From<AddressError> for RequestError {
    fn from(e: AddressError) -> Self {
        match e {
            AddressError::UnknownAddressType(t) => RequestError::UnknownAddressType(t),
            AddressError::EmptyDomain => RequestError::EmptyDomain,
            AddressError::InvalidDomain => RequestError::InvalidDomain,
        }
    }
}

/// Decodes a request header from the start of `buf`.
///
/// Returns `NeedMore` for every strict prefix of a valid header, an error as soon as the bytes
/// seen cannot start one, and never panics. On `Done { value: request, consumed }`, `buf[consumed..]` is payload.
pub fn decode_request(buf: &[u8]) -> Result<Parse<Request>, RequestError> {
    finish(read_request(&mut Reader::new(buf)))
}

fn read_request(reader: &mut Reader<'_>) -> Result<(Request, usize), Stop<RequestError>> {
    let version = reader.u8()?;
    if version != VERSION {
        return Err(Stop::Invalid(RequestError::UnsupportedVersion(version)));
    }
    let user = UserKey(reader.array()?);
    let addons_len = usize::from(reader.u8()?);
    let addons = addons::decode(reader.take(addons_len)?)
        .map_err(|_| Stop::Invalid(RequestError::MalformedAddons))?;
    let flow = match addons.flow {
        "" => Flow::None,
        VISION_FLOW => Flow::Vision,
        other => return Err(Stop::Invalid(RequestError::UnknownFlow(other.to_owned()))),
    };
    let command = match reader.u8()? {
        COMMAND_TCP => Command::Tcp,
        COMMAND_UDP => Command::Udp,
        COMMAND_MUX => Command::Mux,
        other => return Err(Stop::Invalid(RequestError::UnknownCommand(other))),
    };
    let destination = match command {
        Command::Tcp | Command::Udp => {
            Some(address::read_destination(reader).map_err(|s| s.map_invalid(RequestError::from))?)
        }
        Command::Mux => None,
    };
    let request = Request {
        user,
        flow,
        command,
        destination,
    };
    Ok((request, reader.position()))
}

/// Appends the encoded request header to `out`.
///
/// The destination is written for TCP and UDP (a missing one is written as nothing, which no
/// server accepts) and ignored for Mux.
///
/// # Panics
/// If the destination is a domain longer than 255 bytes, which [`crate::Address::domain`]
/// refuses and no decoder produces.
pub fn encode_request(req: &Request, out: &mut Vec<u8>) {
    out.push(VERSION);
    out.extend_from_slice(&req.user.0);
    let len_at = out.len();
    out.push(0);
    addons::encode_flow(req.flow.as_str(), out);
    // The flow is one of two short constants, so the message always fits the one-byte length.
    out[len_at] = (out.len() - len_at - 1) as u8;
    out.push(match req.command {
        Command::Tcp => COMMAND_TCP,
        Command::Udp => COMMAND_UDP,
        Command::Mux => COMMAND_MUX,
    });
    if req.command != Command::Mux {
        if let Some(destination) = &req.destination {
            address::write_destination(destination, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Address;
    use std::net::Ipv4Addr;

    const ID: [u8; 16] = [0x11; 16];

    fn header(addons: &[u8], rest: &[u8]) -> Vec<u8> {
        let mut v = vec![0];
        v.extend_from_slice(&ID);
        v.push(addons.len() as u8);
        v.extend_from_slice(addons);
        v.extend_from_slice(rest);
        v
    }

    #[test]
    fn a_tcp_request_to_an_ipv4_address_decodes_and_leaves_the_payload() {
        let bytes = header(&[], &[1, 0x1f, 0x90, 1, 127, 0, 0, 1, b'G', b'E', b'T']);
        let got = decode_request(&bytes).unwrap();
        let want = Request {
            user: UserKey(ID),
            flow: Flow::None,
            command: Command::Tcp,
            destination: Some(Destination {
                address: Address::Ipv4(Ipv4Addr::LOCALHOST),
                port: 8080,
            }),
        };
        assert_eq!(
            got,
            Parse::Done {
                value: want,
                consumed: bytes.len() - 3
            }
        );
    }

    #[test]
    fn a_vision_mux_request_has_no_destination() {
        let mut addons = vec![0x0a, 16];
        addons.extend_from_slice(b"xtls-rprx-vision");
        let bytes = header(&addons, &[3]);
        let Parse::Done {
            value: req,
            consumed: used,
        } = decode_request(&bytes).unwrap()
        else {
            panic!("incomplete")
        };
        assert_eq!(
            (req.flow, req.command, req.destination, used),
            (Flow::Vision, Command::Mux, None, bytes.len())
        );
    }

    #[test]
    fn every_strict_prefix_of_a_request_needs_more() {
        let bytes = header(&[0x0a, 0], &[2, 0, 53, 2, 3, b'a', b'.', b'b']);
        for end in 0..bytes.len() {
            assert_eq!(
                decode_request(&bytes[..end]),
                Ok(Parse::NeedMore),
                "prefix {end}"
            );
        }
        assert!(decode_request(&bytes).unwrap().is_done());
    }

    #[test]
    fn an_http_request_is_not_vless() {
        assert_eq!(
            decode_request(b"GET / HTTP/1.1\r\n"),
            Err(RequestError::UnsupportedVersion(b'G'))
        );
    }

    #[test]
    fn an_unknown_flow_is_refused_by_name() {
        let bytes = header(&[0x0a, 4, b'n', b'o', b'n', b'e'], &[1]);
        assert_eq!(
            decode_request(&bytes),
            Err(RequestError::UnknownFlow("none".into()))
        );
    }

    #[test]
    fn malformed_addons_are_refused() {
        assert_eq!(
            decode_request(&header(&[0x0a, 9], &[1])),
            Err(RequestError::MalformedAddons)
        );
    }

    #[test]
    fn the_reverse_command_is_unknown() {
        assert_eq!(
            decode_request(&header(&[], &[4])),
            Err(RequestError::UnknownCommand(4))
        );
    }

    #[test]
    fn an_unknown_address_type_is_refused() {
        assert_eq!(
            decode_request(&header(&[], &[1, 0, 80, 9])),
            Err(RequestError::UnknownAddressType(9))
        );
    }

    #[test]
    fn the_lookup_key_ignores_bytes_six_and_seven() {
        let mut other = ID;
        other[6] = 0x4f;
        other[7] = 0x00;
        assert_eq!(UserKey(ID).lookup_key(), UserKey(other).lookup_key());
        other[8] = 0;
        assert_ne!(UserKey(ID).lookup_key(), UserKey(other).lookup_key());
    }

    #[test]
    fn encoding_a_vision_tcp_request_matches_the_xray_layout() {
        let req = Request {
            user: UserKey(ID),
            flow: Flow::Vision,
            command: Command::Tcp,
            destination: Some(Destination {
                address: Address::Domain("example.com".into()),
                port: 443,
            }),
        };
        let mut out = Vec::new();
        encode_request(&req, &mut out);
        let mut addons = vec![0x0a, 16];
        addons.extend_from_slice(b"xtls-rprx-vision");
        let mut tail = vec![1, 0x01, 0xbb, 2, 11];
        tail.extend_from_slice(b"example.com");
        assert_eq!(out, header(&addons, &tail));
        assert_eq!(
            decode_request(&out),
            Ok(Parse::Done {
                value: req,
                consumed: out.len()
            })
        );
    }

    #[test]
    fn debug_output_never_shows_the_user_id() {
        assert_eq!(format!("{:?}", UserKey(ID)), "UserKey(<redacted>)");
    }
}
