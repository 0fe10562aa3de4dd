//! Byte cursor and writers for TLS's length-prefixed encodings; every read is bounds-checked.

use crate::ParseError;

/// A forward-only reader over one complete TLS structure.
///
/// Running out of bytes inside a structure whose outer length was already known is a
/// malformed message, not "need more": callers only build a `Reader` over complete messages.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }

    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos == self.bytes.len()
    }

    pub(crate) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], ParseError> {
        let end = self.pos.checked_add(n).ok_or(ParseError::Truncated(what))?;
        let slice = self
            .bytes
            .get(self.pos..end)
            .ok_or(ParseError::Truncated(what))?;
        self.pos = end;
        Ok(slice)
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, ParseError> {
        Ok(self.take(1, what)?[0])
    }

    pub(crate) fn u16(&mut self, what: &'static str) -> Result<u16, ParseError> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn u24(&mut self, what: &'static str) -> Result<usize, ParseError> {
        let b = self.take(3, what)?;
        Ok(usize::from(b[0]) << 16 | usize::from(b[1]) << 8 | usize::from(b[2]))
    }

    /// A vector with a one-byte length prefix.
    pub(crate) fn vec8(&mut self, what: &'static str) -> Result<&'a [u8], ParseError> {
        let n = self.u8(what)?;
        self.take(usize::from(n), what)
    }

    /// A vector with a two-byte length prefix.
    pub(crate) fn vec16(&mut self, what: &'static str) -> Result<&'a [u8], ParseError> {
        let n = self.u16(what)?;
        self.take(usize::from(n), what)
    }

    /// A vector with a three-byte length prefix.
    pub(crate) fn vec24(&mut self, what: &'static str) -> Result<&'a [u8], ParseError> {
        let n = self.u24(what)?;
        self.take(n, what)
    }
}

pub(crate) fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// Writes a vector with a `width`-byte length prefix filled in after `body` ran.
pub(crate) fn put_vec(out: &mut Vec<u8>, width: usize, body: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.extend(std::iter::repeat_n(0, width));
    body(out);
    let len = out.len() - start - width;
    let be = (len as u32).to_be_bytes();
    out[start..start + width].copy_from_slice(&be[4 - width..]);
}

/// Wraps a handshake message body with its type and 3-byte length.
pub(crate) fn handshake_message(kind: u8, body: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut out = vec![kind];
    put_vec(&mut out, 3, body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_past_the_end_is_a_truncation_error() {
        let mut r = Reader::new(&[0, 5, 1]);
        assert_eq!(r.vec16("x"), Err(ParseError::Truncated("x")));
    }

    #[test]
    fn a_prefixed_vector_gets_its_length_written_in_front() {
        let mut out = Vec::new();
        put_vec(&mut out, 2, |o| o.extend_from_slice(b"abc"));
        assert_eq!(out, [0, 3, b'a', b'b', b'c']);
        assert_eq!(Reader::new(&out).vec16("x").unwrap(), b"abc");
    }
}
