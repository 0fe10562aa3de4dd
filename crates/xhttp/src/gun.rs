//! gRPC "gun", as Xray-core's `transport/internet/grpc` speaks it: an HTTP/2 POST to
//! `/<serviceName>/Tun` (or `/<serviceName>/TunMulti`) with `content-type: application/grpc`,
//! whose request and response bodies are streams of gRPC messages:
//!
//! ```text
//! message   = compressed-flag (1 byte, 0) · length (u32, big endian) · protobuf
//! Hunk      = { bytes data = 1; }            → 0x0A · varint(len) · data
//! MultiHunk = { repeated bytes data = 1; }   → (0x0A · varint(len) · data)*
//! ```
//!
//! Decoding is incremental: [`Parse::NeedMore`] until a whole message is buffered. Messages
//! longer than the caller's `max` are refused before any of their body is awaited.

use crate::Parse;

/// The gRPC message prefix: the compressed flag and the length.
pub const PREFIX_LEN: usize = 5;
/// gRPC's default limit on a received message (4 MiB), which Xray keeps.
pub const DEFAULT_MAX_MESSAGE: usize = 4 * 1024 * 1024;
/// Protobuf key of field 1 with wire type 2 (length-delimited): `(1 << 3) | 2`.
const DATA_KEY: u64 = 0x0A;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GunError {
    /// gun never negotiates compression, so a compressed message is a protocol error.
    #[error("a compressed gRPC message")]
    Compressed,
    #[error("a gRPC message of {0} bytes is larger than allowed")]
    TooLarge(u32),
    #[error("the protobuf message is malformed")]
    Malformed,
}

/// The response headers of a gun call (after `:status 200`).
pub const RESPONSE_HEADERS: [(&str, &str); 1] = [("content-type", "application/grpc")];
/// The trailers that end a gun call that went well.
pub const TRAILERS_OK: [(&str, &str); 1] = [("grpc-status", "0")];

/// Whether a request's `content-type` is gRPC's, as grpc-go's server (Xray's) requires: it
/// answers other requests 415.
pub fn is_grpc_content_type(value: &str) -> bool {
    let Some(rest) = value
        .get(..16)
        .filter(|p| p.eq_ignore_ascii_case("application/grpc"))
        .and_then(|_| value.get(16..))
    else {
        return false;
    };
    rest.is_empty() || rest.starts_with(['+', ';'])
}

/// Which gun method a request path names, for the configured service name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Tun,
    TunMulti,
}

/// The gun method `path` names under `service_name`, as Xray's server registers them: a plain
/// name serves `/<name>/Tun` and `/<name>/TunMulti`; a name starting with `/` is a custom
/// path `/<a>/<b>/<tun>|<tunMulti>` (Xray ≥ 1.8.7).
pub fn method(service_name: &str, path: &str) -> Option<Method> {
    let (service, tun, multi) = match service_name.strip_prefix('/') {
        None => (service_name, "Tun", "TunMulti"),
        Some(custom) => {
            let (service, streams) = custom.rsplit_once('/').unwrap_or(("", custom));
            let (tun, multi) = streams.split_once('|').unwrap_or((streams, streams));
            (service, tun, multi)
        }
    };
    let rest = path.strip_prefix('/')?.strip_prefix(service)?;
    let name = rest.strip_prefix('/')?;
    if name == tun {
        Some(Method::Tun)
    } else if name == multi {
        Some(Method::TunMulti)
    } else {
        None
    }
}

/// One gRPC message's protobuf body: [`Parse::Done`] with the body and the bytes the whole
/// message used.
pub fn decode_message(input: &[u8], max: usize) -> Result<Parse<&[u8]>, GunError> {
    let Some((prefix, rest)) = input.split_first_chunk::<PREFIX_LEN>() else {
        return Ok(Parse::NeedMore);
    };
    let [flag, len @ ..] = *prefix;
    if flag != 0 {
        return Err(GunError::Compressed);
    }
    let len = u32::from_be_bytes(len);
    if len as usize > max {
        return Err(GunError::TooLarge(len));
    }
    match rest.get(..len as usize) {
        Some(body) => Ok(Parse::Done {
            value: body,
            consumed: PREFIX_LEN + body.len(),
        }),
        None => Ok(Parse::NeedMore),
    }
}

/// One `Hunk` message's data. Fields other than 1 are skipped and a repeated field 1 keeps the
/// last, as protobuf decoders do.
pub fn decode_hunk(input: &[u8], max: usize) -> Result<Parse<&[u8]>, GunError> {
    let parsed = decode_message(input, max)?;
    let Parse::Done { value, consumed } = parsed else {
        return Ok(Parse::NeedMore);
    };
    let mut data: &[u8] = &[];
    for_each_data(value, |d| data = d)?;
    Ok(Parse::Done {
        value: data,
        consumed,
    })
}

/// One `MultiHunk` message's data, in order.
pub fn decode_multi_hunk(input: &[u8], max: usize) -> Result<Parse<Vec<&[u8]>>, GunError> {
    let parsed = decode_message(input, max)?;
    let Parse::Done { value, consumed } = parsed else {
        return Ok(Parse::NeedMore);
    };
    let mut data = Vec::new();
    for_each_data(value, |d| data.push(d))?;
    Ok(Parse::Done {
        value: data,
        consumed,
    })
}

/// Walks a protobuf message, handing every field-1 bytes value to `f`.
fn for_each_data<'a>(mut body: &'a [u8], mut f: impl FnMut(&'a [u8])) -> Result<(), GunError> {
    while !body.is_empty() {
        let key = varint(&mut body)?;
        if key >> 3 == 0 {
            return Err(GunError::Malformed);
        }
        match key & 7 {
            0 => {
                varint(&mut body)?;
            }
            1 => body = body.get(8..).ok_or(GunError::Malformed)?,
            2 => {
                let len = usize::try_from(varint(&mut body)?).map_err(|_| GunError::Malformed)?;
                let value = body.get(..len).ok_or(GunError::Malformed)?;
                body = &body[len..];
                if key == DATA_KEY {
                    f(value);
                }
            }
            5 => body = body.get(4..).ok_or(GunError::Malformed)?,
            // Groups (3, 4) are not in proto3 and 6, 7 do not exist.
            _ => return Err(GunError::Malformed),
        }
    }
    Ok(())
}

/// A protobuf varint (at most 10 bytes), advancing `input` past it.
fn varint(input: &mut &[u8]) -> Result<u64, GunError> {
    let mut value = 0u64;
    for i in 0..10 {
        let (&byte, rest) = input.split_first().ok_or(GunError::Malformed)?;
        *input = rest;
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(GunError::Malformed)
}

fn put_varint(mut value: u64, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn varint_len(value: u64) -> usize {
    (64 - value.max(1).leading_zeros() as usize).div_ceil(7)
}

/// Appends one gRPC message carrying a `Hunk` of `data` (a `MultiHunk` of one element is the
/// same bytes). Fails only for data too long for a gRPC length.
pub fn encode_hunk(data: &[u8], out: &mut Vec<u8>) -> Result<(), GunError> {
    encode_multi_hunk(&[data], out)
}

/// Appends one gRPC message carrying a `MultiHunk` of `data`.
pub fn encode_multi_hunk(data: &[&[u8]], out: &mut Vec<u8>) -> Result<(), GunError> {
    let body: usize = data
        .iter()
        .map(|d| 1 + varint_len(d.len() as u64) + d.len())
        .sum();
    let len = u32::try_from(body).map_err(|_| GunError::TooLarge(u32::MAX))?;
    out.reserve(PREFIX_LEN + body);
    out.push(0);
    out.extend_from_slice(&len.to_be_bytes());
    for d in data {
        out.push(DATA_KEY as u8);
        put_varint(d.len() as u64, out);
        out.extend_from_slice(d);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = DEFAULT_MAX_MESSAGE;

    #[test]
    fn a_hunk_is_laid_out_as_the_spec_says() {
        let mut out = Vec::new();
        encode_hunk(b"hello", &mut out).unwrap();
        // Not compressed, 7 bytes of protobuf: key 0x0A, length 5, the data.
        assert_eq!(out, b"\x00\x00\x00\x00\x07\x0a\x05hello");
        assert_eq!(
            decode_hunk(&out, MAX),
            Ok(Parse::Done {
                value: &b"hello"[..],
                consumed: 12
            })
        );
        for end in 0..out.len() {
            assert_eq!(decode_hunk(&out[..end], MAX), Ok(Parse::NeedMore), "{end}");
        }
    }

    #[test]
    fn long_data_takes_a_two_byte_varint() {
        let data = vec![0xab; 300];
        let mut out = Vec::new();
        encode_hunk(&data, &mut out).unwrap();
        // 300 = 0b10_0101100 → 0xAC 0x02; body 1 + 2 + 300 = 303 = 0x012F.
        assert_eq!(&out[..8], b"\x00\x00\x00\x01\x2f\x0a\xac\x02");
        let Ok(Parse::Done { value, consumed }) = decode_hunk(&out, MAX) else {
            panic!("not decoded");
        };
        assert_eq!((value, consumed), (&data[..], out.len()));
    }

    #[test]
    fn an_empty_hunk_and_unknown_fields() {
        // proto3 leaves an empty bytes field out: the message is empty.
        assert_eq!(
            decode_hunk(b"\x00\x00\x00\x00\x00rest", MAX),
            Ok(Parse::Done {
                value: &b""[..],
                consumed: 5
            })
        );
        // Field 2 varint, field 3 fixed64, field 4 fixed32, then the data.
        let body = b"\x10\x96\x01\x1912345678\x25abcd\x0a\x02hi";
        let mut message = vec![0, 0, 0, 0, body.len() as u8];
        message.extend_from_slice(body);
        assert_eq!(
            decode_hunk(&message, MAX),
            Ok(Parse::Done {
                value: &b"hi"[..],
                consumed: message.len()
            })
        );
    }

    #[test]
    fn multi_hunks_keep_every_element_in_order() {
        let mut out = Vec::new();
        encode_multi_hunk(&[b"ab", b"", b"cde"], &mut out).unwrap();
        assert_eq!(out, b"\x00\x00\x00\x00\x0b\x0a\x02ab\x0a\x00\x0a\x03cde");
        assert_eq!(
            decode_multi_hunk(&out, MAX),
            Ok(Parse::Done {
                value: vec![&b"ab"[..], b"", b"cde"],
                consumed: out.len()
            })
        );
    }

    #[test]
    fn bad_messages_are_typed_errors() {
        assert_eq!(
            decode_hunk(b"\x01\x00\x00\x00\x00", MAX),
            Err(GunError::Compressed)
        );
        assert_eq!(
            decode_hunk(b"\x00\x00\x40\x00\x01", MAX),
            Err(GunError::TooLarge(0x0040_0001))
        );
        assert_eq!(
            decode_hunk(b"\x00\x00\x00\x00\x03", 2),
            Err(GunError::TooLarge(3))
        );
        for body in [
            &b"\x0a\x05hi"[..],                              // data longer than the message
            b"\x0a",                                         // key without a length
            b"\x0b",                                         // wire type 3 (a group)
            b"\x02\x00",                                     // field number 0
            b"\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", // an 11-byte varint
        ] {
            let mut message = vec![0, 0, 0, 0, body.len() as u8];
            message.extend_from_slice(body);
            assert_eq!(
                decode_hunk(&message, MAX),
                Err(GunError::Malformed),
                "{body:?}"
            );
        }
    }

    #[test]
    fn paths_of_plain_and_custom_service_names() {
        assert_eq!(method("svc", "/svc/Tun"), Some(Method::Tun));
        assert_eq!(method("svc", "/svc/TunMulti"), Some(Method::TunMulti));
        assert_eq!(method("svc", "/svc/Other"), None);
        assert_eq!(method("svc", "/svcx/Tun"), None);
        assert_eq!(
            method("/my/sample/path1|path2", "/my/sample/path1"),
            Some(Method::Tun)
        );
        assert_eq!(
            method("/my/sample/path1|path2", "/my/sample/path2"),
            Some(Method::TunMulti)
        );
        assert_eq!(method("/my/sample/path1|path2", "/my/path1"), None);
    }

    #[test]
    fn grpc_content_types() {
        for ok in [
            "application/grpc",
            "application/grpc+proto",
            "Application/GRPC;x=1",
        ] {
            assert!(is_grpc_content_type(ok), "{ok}");
        }
        for no in [
            "",
            "application/grp",
            "application/grpcx",
            "application/json",
            "ǘapplication/grpc",
        ] {
            assert!(!is_grpc_content_type(no), "{no}");
        }
    }

    #[test]
    fn varint_lengths() {
        for v in [0u64, 1, 127, 128, 16_383, 16_384, u64::MAX] {
            let mut out = Vec::new();
            put_varint(v, &mut out);
            assert_eq!(out.len(), varint_len(v), "{v}");
            let mut slice = &out[..];
            assert_eq!(varint(&mut slice), Ok(v));
        }
    }
}
