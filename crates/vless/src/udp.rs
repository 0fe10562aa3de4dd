//! UDP over a VLESS stream (command UDP): each datagram is a `u16` big-endian length and then
//! that many payload bytes. A zero length is an empty datagram.

use crate::parse::Parse;

/// The largest datagram the two-byte length can carry.
pub const MAX_PAYLOAD: usize = u16::MAX as usize;

/// A datagram longer than [`MAX_PAYLOAD`] cannot be framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("UDP datagram of {0} bytes exceeds the 65535-byte VLESS frame limit")]
pub struct PacketTooLarge(pub usize);

/// Decodes one datagram from the start of `buf`; `Done { value: payload, consumed }` with `consumed = 2 + len`.
/// Every input is either a complete frame or a prefix of one, so this cannot fail.
pub fn decode_packet(buf: &[u8]) -> Parse<&[u8]> {
    let Some((len, rest)) = buf.split_first_chunk::<2>() else {
        return Parse::NeedMore;
    };
    let len = usize::from(u16::from_be_bytes(*len));
    match rest.get(..len) {
        Some(payload) => Parse::Done {
            value: payload,
            consumed: 2 + len,
        },
        None => Parse::NeedMore,
    }
}

/// Appends one framed datagram to `out`.
pub fn encode_packet(payload: &[u8], out: &mut Vec<u8>) -> Result<(), PacketTooLarge> {
    let len = u16::try_from(payload.len()).map_err(|_| PacketTooLarge(payload.len()))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_datagram_is_length_prefixed_big_endian() {
        let mut out = Vec::new();
        encode_packet(&[7; 300], &mut out).unwrap();
        assert_eq!(&out[..2], &[1, 44]);
        assert_eq!(
            decode_packet(&out),
            Parse::Done {
                value: &[7u8; 300][..],
                consumed: 302
            }
        );
    }

    #[test]
    fn a_partial_datagram_needs_more() {
        assert_eq!(decode_packet(&[]), Parse::NeedMore);
        assert_eq!(decode_packet(&[0]), Parse::NeedMore);
        assert_eq!(decode_packet(&[0, 3, 1, 2]), Parse::NeedMore);
    }

    #[test]
    fn the_next_datagram_is_left_unread() {
        assert_eq!(
            decode_packet(&[0, 1, 9, 0, 1, 8]),
            Parse::Done {
                value: &[9u8][..],
                consumed: 3
            }
        );
    }

    #[test]
    fn an_empty_datagram_is_two_zero_bytes() {
        assert_eq!(
            decode_packet(&[0, 0, 5]),
            Parse::Done {
                value: &[][..],
                consumed: 2
            }
        );
    }

    #[test]
    fn a_datagram_over_64k_is_refused() {
        let mut out = Vec::new();
        assert_eq!(
            encode_packet(&vec![0; 65536], &mut out),
            Err(PacketTooLarge(65536))
        );
        assert!(out.is_empty());
    }
}
