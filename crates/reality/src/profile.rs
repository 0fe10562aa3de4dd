//! What the server copies from `dest`'s answer to the same ClientHello, so an authenticated
//! handshake looks like `dest`'s on the wire.
//!
//! Matched (as XTLS/REALITY does): the ServerHello is `dest`'s own, byte for byte (its
//! random, session id echo, cipher suite and extension order), with only the X25519 key
//! share replaced by ours; the ChangeCipherSpec; and the lengths of the encrypted handshake
//! records, either one record per message (EncryptedExtensions, Certificate,
//! CertificateVerify, Finished) or, when `dest`'s first encrypted record is longer than
//! 512 bytes, one record holding all four, padded with TLS 1.3 record padding.
//!
//! Not matched: a `dest` that picks a group other than X25519 or X25519MLKEM768, or one
//! the client offered no share for (we then build our own ServerHello); a
//! NewSessionTicket record or other records after `dest`'s Finished; the timing of `dest`'s
//! flights; and lengths shorter than our messages (those records are sent unpadded).

use crate::cert::RealityCert;
use crate::messages::{self, ServerHello, HELLO_RETRY_RANDOM};
use crate::protect::TAG_LEN;
use crate::record::{ContentType, RECORD_HEADER_LEN};
use crate::{Parse, ParseError};

/// Above this, `dest`'s first encrypted record is taken to hold the whole encrypted flight.
const COALESCED_THRESHOLD: usize = 512;
/// REALITY gives up learning after this many bytes of `dest`'s answer.
pub const MAX_PROFILE_BYTES: usize = 8192;

/// `dest`'s first flight as seen by the node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestProfile {
    /// `dest`'s ServerHello handshake message.
    pub server_hello: Vec<u8>,
    /// Wire lengths (header included) of `dest`'s encrypted handshake records: four, or one
    /// when `dest` sent the whole flight in one record.
    pub record_lens: Vec<usize>,
}

/// Why `dest`'s answer cannot serve as a profile (the node then treats the connection as
/// if it had not authenticated, as REALITY does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    #[error("dest did not answer with a TLS 1.3 ServerHello")]
    NotTls13,
    #[error("dest's answer is malformed: {0}")]
    Malformed(#[from] ParseError),
    #[error("dest's first flight is longer than we learn from")]
    TooLong,
}

impl DestProfile {
    /// Learns from the bytes `dest` has sent so far.
    pub fn learn(input: &[u8]) -> Result<Parse<DestProfile>, ProfileError> {
        let mut records = Vec::new();
        let mut pos = 0;
        loop {
            if pos > MAX_PROFILE_BYTES {
                return Err(ProfileError::TooLong);
            }
            let Some(header) = input.get(pos..pos + RECORD_HEADER_LEN) else {
                return Ok(Parse::NeedMore);
            };
            if header[1..3] != [3, 3] {
                return Err(ProfileError::NotTls13);
            }
            let len = RECORD_HEADER_LEN + usize::from(u16::from_be_bytes([header[3], header[4]]));
            let expected = match records.len() {
                0 => ContentType::Handshake,
                1 => ContentType::ChangeCipherSpec,
                _ => ContentType::ApplicationData,
            } as u8;
            if header[0] != expected || (records.len() == 1 && len != 6) {
                return Err(ProfileError::NotTls13);
            }
            let Some(record) = input.get(pos..pos + len) else {
                return Ok(Parse::NeedMore);
            };
            records.push(record);
            pos += len;
            let encrypted = records.len() - 2.min(records.len());
            let done = (encrypted == 1 && len > COALESCED_THRESHOLD) || encrypted == 4;
            if done {
                break;
            }
        }
        let hello = ServerHello::parse(records[0][RECORD_HEADER_LEN..].to_vec())?;
        if hello.supported_version != Some(crate::TLS13)
            || crate::CipherSuite::from_id(hello.cipher_suite).is_none()
        {
            return Err(ProfileError::NotTls13);
        }
        let profile = DestProfile {
            server_hello: hello.raw,
            record_lens: records[2..].iter().map(|r| r.len()).collect(),
        };
        Ok(Parse::Done {
            value: profile,
            consumed: pos,
        })
    }
}

/// What `dest` chose in its first record, known before the rest of its flight: a
/// HelloRetryRequest ends the flight there, so waiting for encrypted records would wait forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DestChoice {
    /// A TLS 1.3 ServerHello whose key share is in `group`.
    Tls13 { group: Option<u16> },
    /// A HelloRetryRequest: `dest` wants a key share the client did not send.
    HelloRetry,
}

impl DestProfile {
    /// Reads `dest`'s first record (its ServerHello) from the bytes it has sent so far.
    pub fn choice(input: &[u8]) -> Result<Parse<DestChoice>, ProfileError> {
        let Some(header) = input.get(..RECORD_HEADER_LEN) else {
            return Ok(Parse::NeedMore);
        };
        if header[0] != ContentType::Handshake as u8 || header[1..3] != [3, 3] {
            return Err(ProfileError::NotTls13);
        }
        let len = RECORD_HEADER_LEN + usize::from(u16::from_be_bytes([header[3], header[4]]));
        let Some(record) = input.get(RECORD_HEADER_LEN..len) else {
            return Ok(Parse::NeedMore);
        };
        // Handshake type, length (3), legacy version (2), then the random.
        if record.get(6..38) == Some(&HELLO_RETRY_RANDOM[..]) {
            return Ok(Parse::Done {
                value: DestChoice::HelloRetry,
                consumed: len,
            });
        }
        let hello = ServerHello::parse(record.to_vec())?;
        if hello.supported_version != Some(crate::TLS13) {
            return Err(ProfileError::NotTls13);
        }
        Ok(Parse::Done {
            value: DestChoice::Tls13 {
                group: hello.key_share_group,
            },
            consumed: len,
        })
    }

    /// The key exchange group `dest` chose (`crate::X25519`, `crate::X25519_MLKEM768`, ...).
    pub fn group(&self) -> Option<u16> {
        ServerHello::parse(self.server_hello.clone())
            .ok()?
            .key_share_group
    }

    /// Whether the node's certificate fits in `dest`'s, so our Certificate record is padded to
    /// the length of `dest`'s chain: a longer one stands out on the wire (and Xray's REALITY
    /// server refuses such a `dest`). When `dest` sent its flight in one record, our whole
    /// flight must fit in it.
    pub fn fits(&self, cert: &RealityCert) -> bool {
        let record = |message: usize| RECORD_HEADER_LEN + message + 1 + TAG_LEN;
        let certificate = messages::certificate(&cert.for_client(&[0; 32])).len();
        match self.record_lens.as_slice() {
            [one] => {
                // The longest the other messages of ours can be: ALPN `http/1.1`, SHA-384.
                let rest = messages::encrypted_extensions(Some(b"http/1.1")).len()
                    + messages::certificate_verify(&[0; 64]).len()
                    + messages::finished(&[0; 48]).len();
                record(certificate + rest) <= *one
            }
            [_, theirs, _, _] => record(certificate) <= *theirs,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dest_flight(encrypted: &[usize]) -> Vec<u8> {
        let hello = ServerHello::encode(&[1; 32], &[2; 32], 0x1302, crate::X25519, &[3; 32]);
        let mut out = Vec::new();
        crate::record::plain_record(ContentType::Handshake, 0x0303, &hello, &mut out);
        out.extend_from_slice(&crate::record::CHANGE_CIPHER_SPEC);
        for &len in encrypted {
            out.extend_from_slice(&[23, 3, 3]);
            out.extend_from_slice(&((len - 5) as u16).to_be_bytes());
            out.resize(out.len() + len - 5, 0xaa);
        }
        out
    }

    #[test]
    fn four_separate_records_are_learned_with_their_lengths() {
        let flight = dest_flight(&[40, 3000, 100, 74]);
        let Parse::Done { value, consumed } = DestProfile::learn(&flight).unwrap() else {
            panic!()
        };
        assert_eq!(consumed, flight.len());
        assert_eq!(value.record_lens, vec![40, 3000, 100, 74]);
        assert_eq!(
            crate::messages::ServerHello::parse(value.server_hello)
                .unwrap()
                .cipher_suite,
            0x1302
        );
    }

    #[test]
    fn one_long_record_is_taken_as_the_whole_flight() {
        let flight = dest_flight(&[4000]);
        let Parse::Done { value, .. } = DestProfile::learn(&flight).unwrap() else {
            panic!()
        };
        assert_eq!(value.record_lens, vec![4000]);
    }

    #[test]
    fn a_partial_flight_needs_more() {
        let flight = dest_flight(&[40, 3000, 100, 74]);
        for cut in 0..flight.len() {
            assert_eq!(
                DestProfile::learn(&flight[..cut]),
                Ok(Parse::NeedMore),
                "cut {cut}"
            );
        }
    }

    #[test]
    fn a_tls12_answer_is_not_a_profile() {
        let mut flight = dest_flight(&[40]);
        flight[1..3].copy_from_slice(&[3, 1]);
        assert_eq!(DestProfile::learn(&flight), Err(ProfileError::NotTls13));
    }

    #[test]
    fn the_choice_is_known_from_the_server_hello_alone() {
        let flight = dest_flight(&[40, 3000, 100, 74]);
        let Parse::Done { value, .. } = DestProfile::choice(&flight[..200]).unwrap() else {
            panic!()
        };
        assert_eq!(
            value,
            DestChoice::Tls13 {
                group: Some(crate::X25519)
            }
        );
        assert_eq!(DestProfile::choice(&flight[..20]), Ok(Parse::NeedMore));
    }

    #[test]
    fn a_hello_retry_request_is_told_apart() {
        let hello = ServerHello::encode(&HELLO_RETRY_RANDOM, &[2; 32], 0x1301, 23, &[]);
        let mut record = Vec::new();
        crate::record::plain_record(ContentType::Handshake, 0x0303, &hello, &mut record);
        let Parse::Done { value, .. } = DestProfile::choice(&record).unwrap() else {
            panic!()
        };
        assert_eq!(value, DestChoice::HelloRetry);
    }

    #[test]
    fn a_tls12_server_hello_is_no_choice() {
        let mut flight = dest_flight(&[40]);
        flight[1..3].copy_from_slice(&[3, 1]);
        assert_eq!(DestProfile::choice(&flight), Err(ProfileError::NotTls13));
    }

    #[test]
    fn our_flight_fits_a_real_sized_chain_but_not_a_tiny_one() {
        let cert = RealityCert::generate(&mut crate::rng::test_rng(7));
        let learned = |lens: &[usize]| match DestProfile::learn(&dest_flight(lens)) {
            Ok(Parse::Done { value, .. }) => value,
            other => panic!("{other:?}"),
        };
        assert!(learned(&[40, 3000, 100, 74]).fits(&cert));
        assert!(learned(&[4000]).fits(&cert));
        assert!(!learned(&[40, 100, 100, 74]).fits(&cert));
        assert_eq!(learned(&[40, 3000, 100, 74]).group(), Some(crate::X25519));
    }
}
