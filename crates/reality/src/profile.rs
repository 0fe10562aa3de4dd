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

use crate::messages::ServerHello;
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
}
