//! Parsing a ClientHello out of the first TLS records a connection sends.

use crate::record::{ContentType, RECORD_HEADER_LEN};
use crate::wire::Reader;
use crate::{Parse, ParseError};

/// Handshake message type of a ClientHello.
pub const CLIENT_HELLO: u8 = 1;
/// The largest ClientHello we reassemble; Chrome's with a post-quantum key share is ~1.8 KiB.
pub const MAX_CLIENT_HELLO_LEN: usize = 1 << 16;

/// Extension numbers we read or write.
pub mod ext {
    pub const SERVER_NAME: u16 = 0;
    pub const STATUS_REQUEST: u16 = 5;
    pub const SUPPORTED_GROUPS: u16 = 10;
    pub const EC_POINT_FORMATS: u16 = 11;
    pub const SIGNATURE_ALGORITHMS: u16 = 13;
    pub const ALPN: u16 = 16;
    pub const SCT: u16 = 18;
    pub const EXTENDED_MASTER_SECRET: u16 = 23;
    pub const COMPRESS_CERTIFICATE: u16 = 27;
    pub const SESSION_TICKET: u16 = 35;
    pub const SUPPORTED_VERSIONS: u16 = 43;
    pub const PSK_MODES: u16 = 45;
    pub const KEY_SHARE: u16 = 51;
    pub const APPLICATION_SETTINGS: u16 = 17513;
    pub const APPLICATION_SETTINGS_NEW: u16 = 17613;
    pub const ENCRYPTED_CLIENT_HELLO: u16 = 0xfe0d;
    pub const RENEGOTIATION_INFO: u16 = 0xff01;
}

/// Named groups.
pub const X25519: u16 = 29;
/// X25519 hybrid with ML-KEM-768: the client's share is the 1184-byte ML-KEM key then 32 bytes of X25519.
pub const X25519_MLKEM768: u16 = 0x11ec;
const MLKEM768_ENCAPSULATION_KEY_LEN: usize = 1184;
/// TLS 1.3 in supported_versions.
pub const TLS13: u16 = 0x0304;

/// One entry of the key_share extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyShare {
    pub group: u16,
    pub data: Vec<u8>,
}

/// A parsed ClientHello and the exact handshake message it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello {
    pub legacy_version: u16,
    pub random: [u8; 32],
    pub session_id: Vec<u8>,
    pub cipher_suites: Vec<u16>,
    pub compression_methods: Vec<u8>,
    /// Extension types in the order sent.
    pub extension_types: Vec<u16>,
    pub server_name: Option<String>,
    pub supported_versions: Vec<u16>,
    pub supported_groups: Vec<u16>,
    pub key_shares: Vec<KeyShare>,
    pub signature_algorithms: Vec<u16>,
    pub alpn: Vec<Vec<u8>>,
    pub psk_modes: Vec<u8>,
    /// The handshake message (4-byte header included) as sent: REALITY's AAD and the
    /// first entry of the TLS transcript.
    pub raw: Vec<u8>,
}

/// Offset of a 32-byte legacy session id inside [`ClientHello::raw`]: 4 header, 2 version,
/// 32 random, 1 length.
pub const SESSION_ID_OFFSET: usize = 39;

impl ClientHello {
    /// Reads a ClientHello from the start of a connection's byte stream, reassembling it
    /// from several handshake records if it was fragmented. `consumed` counts record bytes.
    pub fn read(input: &[u8]) -> Result<Parse<ClientHello>, ParseError> {
        let mut message = Vec::new();
        let mut pos = 0;
        loop {
            // Decide on the first bytes already, so HTTP or garbage is relayed at once.
            let rest = &input[pos.min(input.len())..];
            if rest
                .first()
                .is_some_and(|&t| t != ContentType::Handshake as u8)
            {
                return Err(ParseError::NotHandshake);
            }
            if rest.get(1).is_some_and(|&v| v != 3) {
                return Err(ParseError::BadRecordVersion);
            }
            let Some(header) = input.get(pos..pos + RECORD_HEADER_LEN) else {
                return Ok(Parse::NeedMore);
            };
            let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
            if len == 0 || len > crate::record::MAX_PLAINTEXT {
                return Err(ParseError::BadRecordLength);
            }
            let body_start = pos + RECORD_HEADER_LEN;
            let Some(body) = input.get(body_start..body_start + len) else {
                return Ok(Parse::NeedMore);
            };
            message.extend_from_slice(body);
            pos = body_start + len;
            if message.len() >= 4 {
                if message[0] != CLIENT_HELLO {
                    return Err(ParseError::NotClientHello);
                }
                let want = 4
                    + (usize::from(message[1]) << 16
                        | usize::from(message[2]) << 8
                        | usize::from(message[3]));
                if want > MAX_CLIENT_HELLO_LEN {
                    return Err(ParseError::TooLarge);
                }
                if message.len() > want {
                    // TLS 1.3 forbids anything after the ClientHello in its records.
                    return Err(ParseError::TrailingBytes("client hello record"));
                }
                if message.len() == want {
                    let hello = ClientHello::parse(message)?;
                    return Ok(Parse::Done {
                        value: hello,
                        consumed: pos,
                    });
                }
            }
        }
    }

    /// Parses one complete ClientHello handshake message (header included).
    pub fn parse(raw: Vec<u8>) -> Result<ClientHello, ParseError> {
        let mut r = Reader::new(&raw);
        if r.u8("handshake type")? != CLIENT_HELLO {
            return Err(ParseError::NotClientHello);
        }
        let body = r.vec24("client hello")?;
        if !r.is_empty() {
            return Err(ParseError::TrailingBytes("client hello"));
        }
        let mut r = Reader::new(body);
        let legacy_version = r.u16("legacy version")?;
        let mut random = [0; 32];
        random.copy_from_slice(r.take(32, "random")?);
        let session_id = r.vec8("session id")?;
        if session_id.len() > 32 {
            return Err(ParseError::SessionIdTooLong);
        }
        let session_id = session_id.to_vec();
        let cipher_suites = u16_list(r.vec16("cipher suites")?, "cipher suites")?;
        let compression_methods = r.vec8("compression methods")?.to_vec();
        let mut hello = ClientHello {
            legacy_version,
            random,
            session_id,
            cipher_suites,
            compression_methods,
            extension_types: Vec::new(),
            server_name: None,
            supported_versions: Vec::new(),
            supported_groups: Vec::new(),
            key_shares: Vec::new(),
            signature_algorithms: Vec::new(),
            alpn: Vec::new(),
            psk_modes: Vec::new(),
            raw: Vec::new(),
        };
        if !r.is_empty() {
            let mut exts = Reader::new(r.vec16("extensions")?);
            if !r.is_empty() {
                return Err(ParseError::TrailingBytes("client hello body"));
            }
            while !exts.is_empty() {
                let kind = exts.u16("extension type")?;
                let data = exts.vec16("extension data")?;
                if hello.extension_types.contains(&kind) {
                    return Err(ParseError::DuplicateExtension(kind));
                }
                hello.extension_types.push(kind);
                hello.read_extension(kind, data)?;
            }
        }
        hello.raw = raw;
        Ok(hello)
    }

    fn read_extension(&mut self, kind: u16, data: &[u8]) -> Result<(), ParseError> {
        let mut r = Reader::new(data);
        match kind {
            ext::SERVER_NAME => {
                let mut list = Reader::new(r.vec16("server name list")?);
                while !list.is_empty() {
                    let name_type = list.u8("server name type")?;
                    let name = list.vec16("server name")?;
                    if name_type == 0 && self.server_name.is_none() {
                        let name = std::str::from_utf8(name)
                            .ok()
                            .filter(|n| n.is_ascii())
                            .ok_or(ParseError::BadServerName)?;
                        self.server_name = Some(name.to_owned());
                    }
                }
            }
            ext::SUPPORTED_VERSIONS => {
                self.supported_versions =
                    u16_list(r.vec8("supported versions")?, "supported versions")?
            }
            ext::SUPPORTED_GROUPS => {
                self.supported_groups = u16_list(r.vec16("supported groups")?, "supported groups")?
            }
            ext::SIGNATURE_ALGORITHMS => {
                self.signature_algorithms =
                    u16_list(r.vec16("signature algorithms")?, "signature algorithms")?
            }
            ext::KEY_SHARE => {
                let mut list = Reader::new(r.vec16("key shares")?);
                while !list.is_empty() {
                    let group = list.u16("key share group")?;
                    let data = list.vec16("key share")?.to_vec();
                    self.key_shares.push(KeyShare { group, data });
                }
            }
            ext::ALPN => {
                let mut list = Reader::new(r.vec16("alpn list")?);
                while !list.is_empty() {
                    let proto = list.vec8("alpn protocol")?;
                    if proto.is_empty() {
                        return Err(ParseError::EmptyAlpnProtocol);
                    }
                    self.alpn.push(proto.to_vec());
                }
            }
            ext::PSK_MODES => self.psk_modes = r.vec8("psk modes")?.to_vec(),
            _ => return Ok(()),
        }
        if r.is_empty() {
            Ok(())
        } else {
            Err(ParseError::TrailingBytes("extension"))
        }
    }

    /// Whether the client offers TLS 1.3.
    pub fn offers_tls13(&self) -> bool {
        self.supported_versions.contains(&TLS13)
    }

    /// The client's X25519 public key: a plain X25519 share, or else the X25519 half of an
    /// X25519MLKEM768 share, as REALITY looks for it.
    pub fn x25519_share(&self) -> Option<[u8; 32]> {
        let plain = self
            .key_shares
            .iter()
            .find(|k| k.group == X25519 && k.data.len() == 32)
            .map(|k| k.data.as_slice());
        let hybrid = || {
            self.key_shares
                .iter()
                .find(|k| {
                    k.group == X25519_MLKEM768
                        && k.data.len() == MLKEM768_ENCAPSULATION_KEY_LEN + 32
                })
                .map(|k| &k.data[MLKEM768_ENCAPSULATION_KEY_LEN..])
        };
        plain.or_else(hybrid).and_then(|d| d.try_into().ok())
    }

    /// Whether the client's X25519 share is a plain one (usable for the TLS key exchange).
    pub fn has_plain_x25519(&self) -> bool {
        self.key_shares
            .iter()
            .any(|k| k.group == X25519 && k.data.len() == 32)
    }
}

fn u16_list(bytes: &[u8], what: &'static str) -> Result<Vec<u16>, ParseError> {
    if bytes.len() % 2 != 0 {
        return Err(ParseError::OddLength(what));
    }
    Ok(bytes
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hello::{ChromeHello, HelloParams};
    use proptest::prelude::*;

    fn chrome_hello_bytes() -> Vec<u8> {
        let params = HelloParams {
            server_name: "www.example.com".into(),
            random: [7; 32],
            session_id: [9; 32],
            x25519_public: [5; 32],
            mlkem_encapsulation_key: Some(vec![6; 1184]),
        };
        ChromeHello::build(&params, &mut crate::rng::test_rng(1)).record()
    }

    #[test]
    fn a_chrome_shaped_hello_parses_with_its_fields() {
        let bytes = chrome_hello_bytes();
        let Parse::Done { value, consumed } = ClientHello::read(&bytes).unwrap() else {
            panic!("complete hello reported as partial")
        };
        assert_eq!(consumed, bytes.len());
        assert_eq!(value.server_name.as_deref(), Some("www.example.com"));
        assert_eq!(value.random, [7; 32]);
        assert_eq!(value.session_id, [9; 32]);
        assert!(value.offers_tls13());
        assert_eq!(value.x25519_share(), Some([5; 32]));
        assert_eq!(value.key_shares[1].group, X25519_MLKEM768);
        assert_eq!(value.key_shares[1].data.len(), 1184 + 32);
        assert_eq!(&value.supported_groups[1..3], &[X25519_MLKEM768, X25519]);
        assert_eq!(value.alpn, vec![b"h2".to_vec(), b"http/1.1".to_vec()]);
        assert_eq!(value.psk_modes, vec![1]);
        assert!(value.signature_algorithms.contains(&0x0804));
        assert_eq!(
            &value.raw[SESSION_ID_OFFSET..SESSION_ID_OFFSET + 32],
            &[9; 32]
        );
    }

    #[test]
    fn every_strict_prefix_needs_more() {
        let bytes = chrome_hello_bytes();
        for cut in 0..bytes.len() {
            assert_eq!(
                ClientHello::read(&bytes[..cut]),
                Ok(Parse::NeedMore),
                "cut {cut}"
            );
        }
    }

    #[test]
    fn a_hello_fragmented_over_records_is_reassembled() {
        let bytes = chrome_hello_bytes();
        let message = &bytes[5..];
        let mut fragmented = Vec::new();
        for piece in message.chunks(100) {
            fragmented.extend_from_slice(&[22, 3, 1]);
            fragmented.extend_from_slice(&(piece.len() as u16).to_be_bytes());
            fragmented.extend_from_slice(piece);
        }
        let Parse::Done { value, consumed } = ClientHello::read(&fragmented).unwrap() else {
            panic!("complete hello reported as partial")
        };
        assert_eq!(consumed, fragmented.len());
        assert_eq!(value.raw, message);
    }

    #[test]
    fn http_is_not_a_handshake() {
        assert_eq!(
            ClientHello::read(b"GET / HTTP/1.1\r\n"),
            Err(ParseError::NotHandshake)
        );
    }

    #[test]
    fn a_duplicated_extension_is_rejected() {
        let mut hello = ClientHello::read(&chrome_hello_bytes()).unwrap();
        let Parse::Done { value, .. } = &mut hello else {
            panic!()
        };
        let mut raw = value.raw.clone();
        // Append a second ALPN extension and fix up the lengths.
        let extra = [0u8, 16, 0, 5, 0, 3, 2, b'h', b'2'];
        raw.extend_from_slice(&extra);
        let body_len = raw.len() - 4;
        raw[1..4].copy_from_slice(&(body_len as u32).to_be_bytes()[1..]);
        let ext_len_pos = 4 + 2 + 32 + 1 + 32;
        let mut r = Reader::new(&raw[ext_len_pos..]);
        let suites = r.vec16("x").unwrap().len();
        let comp = r.vec8("x").unwrap().len();
        let pos = ext_len_pos + 2 + suites + 1 + comp;
        let old = u16::from_be_bytes([raw[pos], raw[pos + 1]]);
        raw[pos..pos + 2].copy_from_slice(&(old + extra.len() as u16).to_be_bytes());
        assert_eq!(
            ClientHello::parse(raw),
            Err(ParseError::DuplicateExtension(16))
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = ClientHello::read(&bytes);
            let _ = ClientHello::parse(bytes);
        }

        #[test]
        fn flipping_a_byte_never_panics(pos in 0usize..2000, value in any::<u8>()) {
            let mut bytes = chrome_hello_bytes();
            let pos = pos % bytes.len();
            bytes[pos] = value;
            let _ = ClientHello::read(&bytes);
        }
    }
}
