//! The VLESS response header the server sends before the first payload byte.
//!
//! Wire layout: `version: u8` (0, echoing the request), `addons len: u8`, then that many bytes of
//! protobuf addons. Servers send `[0, 0]`; clients skip whatever addons arrive.

use crate::parse::{finish, Parse, Reader, Stop};
use crate::request::VERSION;

/// Why bytes are not a VLESS response header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    #[error("unexpected VLESS response version {0}")]
    UnsupportedVersion(u8),
}

/// Appends the response header: version 0, no addons.
pub fn encode_response(out: &mut Vec<u8>) {
    out.extend_from_slice(&[VERSION, 0]);
}

/// Decodes a response header from the start of `buf`, skipping its addons.
/// On `Done { consumed, .. }`, `buf[consumed..]` is payload.
pub fn decode_response(buf: &[u8]) -> Result<Parse<()>, ResponseError> {
    finish(read_response(&mut Reader::new(buf)))
}

fn read_response(reader: &mut Reader<'_>) -> Result<((), usize), Stop<ResponseError>> {
    let version = reader.u8()?;
    if version != VERSION {
        return Err(Stop::Invalid(ResponseError::UnsupportedVersion(version)));
    }
    let addons_len = usize::from(reader.u8()?);
    reader.take(addons_len)?;
    Ok(((), reader.position()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_response_is_two_zero_bytes() {
        let mut out = Vec::new();
        encode_response(&mut out);
        assert_eq!(out, [0, 0]);
        assert_eq!(
            decode_response(&out),
            Ok(Parse::Done {
                value: (),
                consumed: 2
            })
        );
    }

    #[test]
    fn response_addons_are_skipped() {
        assert_eq!(
            decode_response(&[0, 2, 0x0a, 0, b'x']),
            Ok(Parse::Done {
                value: (),
                consumed: 4
            })
        );
        assert_eq!(decode_response(&[0, 2, 0x0a]), Ok(Parse::NeedMore));
        assert_eq!(decode_response(&[0]), Ok(Parse::NeedMore));
        assert_eq!(decode_response(&[]), Ok(Parse::NeedMore));
    }

    #[test]
    fn a_response_with_another_version_is_refused() {
        assert_eq!(
            decode_response(&[1, 0]),
            Err(ResponseError::UnsupportedVersion(1))
        );
    }
}
