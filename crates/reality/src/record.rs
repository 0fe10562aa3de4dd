//! TLS record framing: content types, headers, and splitting a byte stream into records.

use crate::TlsError;

/// Bytes in a record header: type, legacy version, length.
pub const RECORD_HEADER_LEN: usize = 5;
/// The largest plaintext a record may carry (2^14).
pub const MAX_PLAINTEXT: usize = 1 << 14;
/// The largest TLS 1.3 ciphertext: plaintext, content type and up to 255 bytes of expansion.
pub const MAX_CIPHERTEXT: usize = MAX_PLAINTEXT + 256;

/// Record content types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ContentType {
    ChangeCipherSpec = 20,
    Alert = 21,
    Handshake = 22,
    ApplicationData = 23,
}

impl ContentType {
    pub(crate) fn from_u8(v: u8) -> Option<ContentType> {
        match v {
            20 => Some(ContentType::ChangeCipherSpec),
            21 => Some(ContentType::Alert),
            22 => Some(ContentType::Handshake),
            23 => Some(ContentType::ApplicationData),
            _ => None,
        }
    }
}

/// The one ChangeCipherSpec record TLS 1.3 peers send for middlebox compatibility.
pub(crate) const CHANGE_CIPHER_SPEC: [u8; 6] = [20, 3, 3, 0, 1, 1];

/// Appends an unprotected record.
pub(crate) fn plain_record(kind: ContentType, legacy_version: u16, body: &[u8], out: &mut Vec<u8>) {
    for chunk in body.chunks(MAX_PLAINTEXT) {
        out.push(kind as u8);
        out.extend_from_slice(&legacy_version.to_be_bytes());
        out.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
        out.extend_from_slice(chunk);
    }
}

/// The length of the complete record at the start of `buf`, or `None` if more bytes are needed.
pub(crate) fn complete_record_len(buf: &[u8]) -> Result<Option<usize>, TlsError> {
    if buf.len() < RECORD_HEADER_LEN {
        return Ok(None);
    }
    let len = usize::from(u16::from_be_bytes([buf[3], buf[4]]));
    if len > MAX_CIPHERTEXT {
        return Err(TlsError::RecordOverflow);
    }
    if ContentType::from_u8(buf[0]).is_none() {
        return Err(TlsError::UnexpectedRecord(buf[0]));
    }
    let total = RECORD_HEADER_LEN + len;
    Ok((buf.len() >= total).then_some(total))
}
