//! The TLS 1.3 handshake messages a REALITY server sends, encoded and parsed.

use crate::client_hello::{ext, TLS13};
use crate::wire::{handshake_message, put_u16, put_vec, Reader};
use crate::ParseError;

pub(crate) const SERVER_HELLO: u8 = 2;
pub(crate) const ENCRYPTED_EXTENSIONS: u8 = 8;
pub(crate) const CERTIFICATE: u8 = 11;
pub(crate) const CERTIFICATE_VERIFY: u8 = 15;
pub(crate) const FINISHED: u8 = 20;
pub(crate) const ED25519_SCHEME: u16 = 0x0807;

/// The random value of a HelloRetryRequest (RFC 8446 4.1.3).
pub(crate) const HELLO_RETRY_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// A ServerHello, with where its key share sits in `raw` so a copy of `dest`'s can be patched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServerHello {
    pub(crate) random: [u8; 32],
    pub(crate) session_id: Vec<u8>,
    pub(crate) cipher_suite: u16,
    pub(crate) supported_version: Option<u16>,
    pub(crate) key_share_group: Option<u16>,
    /// Range of the key share's data within `raw`.
    pub(crate) key_share_at: Option<std::ops::Range<usize>>,
    pub(crate) raw: Vec<u8>,
}

impl ServerHello {
    pub(crate) fn encode(
        random: &[u8; 32],
        session_id: &[u8],
        suite: u16,
        group: u16,
        share: &[u8],
    ) -> Vec<u8> {
        handshake_message(SERVER_HELLO, |o| {
            put_u16(o, 0x0303);
            o.extend_from_slice(random);
            put_vec(o, 1, |o| o.extend_from_slice(session_id));
            put_u16(o, suite);
            o.push(0);
            put_vec(o, 2, |o| {
                // Go's order: supported_versions, then key_share.
                put_u16(o, ext::SUPPORTED_VERSIONS);
                put_vec(o, 2, |o| put_u16(o, TLS13));
                put_u16(o, ext::KEY_SHARE);
                put_vec(o, 2, |o| {
                    put_u16(o, group);
                    put_vec(o, 2, |o| o.extend_from_slice(share));
                });
            });
        })
    }

    pub(crate) fn parse(raw: Vec<u8>) -> Result<ServerHello, ParseError> {
        let mut r = Reader::new(&raw);
        if r.u8("handshake type")? != SERVER_HELLO {
            return Err(ParseError::UnexpectedMessage);
        }
        let body_len = r.u24("server hello")?;
        if body_len + 4 != raw.len() {
            return Err(ParseError::TrailingBytes("server hello"));
        }
        r.u16("legacy version")?;
        let mut random = [0; 32];
        random.copy_from_slice(r.take(32, "random")?);
        if random == HELLO_RETRY_RANDOM {
            return Err(ParseError::UnexpectedMessage);
        }
        let session_id = r.vec8("session id")?.to_vec();
        let cipher_suite = r.u16("cipher suite")?;
        r.u8("compression")?;
        let mut hello = ServerHello {
            random,
            session_id,
            cipher_suite,
            supported_version: None,
            key_share_group: None,
            key_share_at: None,
            raw: Vec::new(),
        };
        let ext_len = r.u16("extensions")?;
        let ext_start = r.position();
        while r.position() < ext_start + usize::from(ext_len) {
            let kind = r.u16("extension type")?;
            let data = r.vec16("extension data")?;
            let data_start = r.position() - data.len();
            let mut e = Reader::new(data);
            match kind {
                ext::SUPPORTED_VERSIONS => {
                    hello.supported_version = Some(e.u16("supported version")?)
                }
                ext::KEY_SHARE => {
                    hello.key_share_group = Some(e.u16("key share group")?);
                    let share = e.vec16("key share")?;
                    let start = data_start + 4;
                    hello.key_share_at = Some(start..start + share.len());
                }
                _ => continue,
            }
            if !e.is_empty() {
                return Err(ParseError::TrailingBytes("server hello extension"));
            }
        }
        if !r.is_empty() {
            return Err(ParseError::TrailingBytes("server hello"));
        }
        hello.raw = raw;
        Ok(hello)
    }
}

pub(crate) fn encrypted_extensions(alpn: Option<&[u8]>) -> Vec<u8> {
    handshake_message(ENCRYPTED_EXTENSIONS, |o| {
        put_vec(o, 2, |o| {
            if let Some(proto) = alpn {
                put_u16(o, ext::ALPN);
                put_vec(o, 2, |o| {
                    put_vec(o, 2, |o| put_vec(o, 1, |o| o.extend_from_slice(proto)))
                });
            }
        })
    })
}

/// The ALPN protocol an EncryptedExtensions selects, if any.
pub(crate) fn parse_encrypted_extensions(msg: &[u8]) -> Result<Option<Vec<u8>>, ParseError> {
    let mut r = Reader::new(&msg[4..]);
    let mut exts = Reader::new(r.vec16("extensions")?);
    let mut alpn = None;
    while !exts.is_empty() {
        let kind = exts.u16("extension type")?;
        let data = exts.vec16("extension data")?;
        if kind == ext::ALPN {
            let mut e = Reader::new(data);
            let mut list = Reader::new(e.vec16("alpn list")?);
            alpn = Some(list.vec8("alpn protocol")?.to_vec());
        }
    }
    Ok(alpn)
}

pub(crate) fn certificate(cert: &[u8]) -> Vec<u8> {
    handshake_message(CERTIFICATE, |o| {
        o.push(0);
        put_vec(o, 3, |o| {
            put_vec(o, 3, |o| o.extend_from_slice(cert));
            put_u16(o, 0);
        });
    })
}

/// The leaf certificate of a Certificate message.
pub(crate) fn parse_certificate(msg: &[u8]) -> Result<Vec<u8>, ParseError> {
    let mut r = Reader::new(&msg[4..]);
    r.vec8("certificate request context")?;
    let mut list = Reader::new(r.vec24("certificate list")?);
    Ok(list.vec24("certificate")?.to_vec())
}

/// What a server signs in CertificateVerify (RFC 8446 4.4.3).
pub(crate) fn certificate_verify_input(transcript_hash: &[u8]) -> Vec<u8> {
    let mut m = vec![0x20; 64];
    m.extend_from_slice(b"TLS 1.3, server CertificateVerify\0");
    m.extend_from_slice(transcript_hash);
    m
}

pub(crate) fn certificate_verify(signature: &[u8]) -> Vec<u8> {
    handshake_message(CERTIFICATE_VERIFY, |o| {
        put_u16(o, ED25519_SCHEME);
        put_vec(o, 2, |o| o.extend_from_slice(signature));
    })
}

/// Scheme and signature of a CertificateVerify.
pub(crate) fn parse_certificate_verify(msg: &[u8]) -> Result<(u16, Vec<u8>), ParseError> {
    let mut r = Reader::new(&msg[4..]);
    let scheme = r.u16("signature scheme")?;
    Ok((scheme, r.vec16("signature")?.to_vec()))
}

pub(crate) fn finished(verify_data: &[u8]) -> Vec<u8> {
    handshake_message(FINISHED, |o| o.extend_from_slice(verify_data))
}

/// Splits complete handshake messages off the front of a reassembly buffer.
#[derive(Debug, Default)]
pub(crate) struct HandshakeBuffer {
    bytes: Vec<u8>,
}

impl HandshakeBuffer {
    pub(crate) fn push(&mut self, data: &[u8]) {
        self.bytes.extend_from_slice(data);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The next complete message (header included), if there is one.
    pub(crate) fn next_message(&mut self) -> Result<Option<Vec<u8>>, ParseError> {
        if self.bytes.len() < 4 {
            return Ok(None);
        }
        let len = usize::from(self.bytes[1]) << 16
            | usize::from(self.bytes[2]) << 8
            | usize::from(self.bytes[3]);
        if len > 1 << 16 {
            return Err(ParseError::TooLarge);
        }
        if self.bytes.len() < 4 + len {
            return Ok(None);
        }
        let rest = self.bytes.split_off(4 + len);
        Ok(Some(std::mem::replace(&mut self.bytes, rest)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client_hello::X25519;

    #[test]
    fn an_encoded_server_hello_parses_back_with_the_key_share_located() {
        let raw = ServerHello::encode(&[1; 32], &[2; 32], 0x1301, X25519, &[3; 32]);
        let hello = ServerHello::parse(raw.clone()).unwrap();
        assert_eq!(hello.session_id, [2; 32]);
        assert_eq!(hello.cipher_suite, 0x1301);
        assert_eq!(hello.supported_version, Some(TLS13));
        assert_eq!(hello.key_share_group, Some(X25519));
        assert_eq!(&raw[hello.key_share_at.unwrap()], &[3; 32]);
    }

    #[test]
    fn encrypted_extensions_carry_the_chosen_protocol() {
        assert_eq!(
            parse_encrypted_extensions(&encrypted_extensions(Some(b"h2"))).unwrap(),
            Some(b"h2".to_vec())
        );
        assert_eq!(
            parse_encrypted_extensions(&encrypted_extensions(None)).unwrap(),
            None
        );
    }

    #[test]
    fn the_buffer_returns_messages_only_when_complete() {
        let msg = finished(&[7; 32]);
        let mut buf = HandshakeBuffer::default();
        buf.push(&msg[..10]);
        assert_eq!(buf.next_message().unwrap(), None);
        buf.push(&msg[10..]);
        assert_eq!(buf.next_message().unwrap(), Some(msg));
        assert!(buf.is_empty());
    }
}
