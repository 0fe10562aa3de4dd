//! VLESS header addons: a minimal reader and writer for the protobuf message
//! `Addons { string Flow = 1; bytes Seed = 2; }`.
//!
//! The message is preceded on the wire by a one-byte length, so it is at most 255 bytes.
//! Reading follows protobuf rules: fields may come in any order, a repeated field keeps its last
//! value, unknown fields of wire types varint (0), 64-bit (1), length-delimited (2) and 32-bit
//! (5) are skipped, and anything else (groups, bad wire types, field number 0, truncated fields,
//! over-long varints, a flow that is not UTF-8) is malformed.

/// The flow string that selects XTLS Vision.
pub(crate) const VISION_FLOW: &str = "xtls-rprx-vision";

const FIELD_FLOW: u64 = 1;
const FIELD_SEED: u64 = 2;
const WIRE_VARINT: u64 = 0;
const WIRE_FIXED64: u64 = 1;
const WIRE_LEN: u64 = 2;
const WIRE_FIXED32: u64 = 5;

/// The decoded fields of an addons message, borrowing from the input.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Addons<'a> {
    pub(crate) flow: &'a str,
    pub(crate) seed: &'a [u8],
}

/// The addons bytes are not a valid protobuf `Addons` message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MalformedAddons;

/// Decodes a complete addons message (the length prefix already removed).
pub(crate) fn decode(mut bytes: &[u8]) -> Result<Addons<'_>, MalformedAddons> {
    let mut addons = Addons::default();
    while !bytes.is_empty() {
        let key = varint(&mut bytes)?;
        let field = key >> 3;
        let wire = key & 7;
        if field == 0 {
            return Err(MalformedAddons);
        }
        match wire {
            WIRE_VARINT => {
                varint(&mut bytes)?;
            }
            WIRE_FIXED64 => {
                take(&mut bytes, 8)?;
            }
            WIRE_FIXED32 => {
                take(&mut bytes, 4)?;
            }
            WIRE_LEN => {
                let len = usize::try_from(varint(&mut bytes)?).map_err(|_| MalformedAddons)?;
                let value = take(&mut bytes, len)?;
                match field {
                    FIELD_FLOW => {
                        addons.flow = std::str::from_utf8(value).map_err(|_| MalformedAddons)?
                    }
                    FIELD_SEED => addons.seed = value,
                    _ => {}
                }
            }
            _ => return Err(MalformedAddons),
        }
    }
    Ok(addons)
}

/// Encodes an addons message carrying only a flow (the length prefix not included).
/// An empty flow encodes as an empty message, as proto3 omits default values.
pub(crate) fn encode_flow(flow: &str, out: &mut Vec<u8>) {
    if flow.is_empty() {
        return;
    }
    out.push(((FIELD_FLOW << 3) | WIRE_LEN) as u8);
    put_varint(flow.len() as u64, out);
    out.extend_from_slice(flow.as_bytes());
}

fn take<'a>(bytes: &mut &'a [u8], len: usize) -> Result<&'a [u8], MalformedAddons> {
    if bytes.len() < len {
        return Err(MalformedAddons);
    }
    let (head, tail) = bytes.split_at(len);
    *bytes = tail;
    Ok(head)
}

/// Reads a base-128 varint of at most 10 bytes whose value fits in 64 bits.
fn varint(bytes: &mut &[u8]) -> Result<u64, MalformedAddons> {
    let mut value: u64 = 0;
    for i in 0..10 {
        let (&byte, rest) = bytes.split_first().ok_or(MalformedAddons)?;
        *bytes = rest;
        let bits = u64::from(byte & 0x7f);
        if i == 9 && bits > 1 {
            return Err(MalformedAddons);
        }
        value |= bits << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(MalformedAddons)
}

fn put_varint(mut value: u64, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vision_flow_encodes_as_protobuf_field_one() {
        let mut out = Vec::new();
        encode_flow(VISION_FLOW, &mut out);
        let mut want = vec![0x0a, 16];
        want.extend_from_slice(b"xtls-rprx-vision");
        assert_eq!(out, want);
        assert_eq!(
            decode(&out),
            Ok(Addons {
                flow: VISION_FLOW,
                seed: &[]
            })
        );
    }

    #[test]
    fn unknown_fields_of_every_skippable_wire_type_are_skipped() {
        let mut bytes = vec![
            0x18, 0x96, 0x01, // field 3 varint 150
            0x21, 1, 2, 3, 4, 5, 6, 7, 8, // field 4 fixed64
            0x2d, 1, 2, 3, 4, // field 5 fixed32
            0x32, 2, 0xff, 0xfe, // field 6 bytes
            0x12, 3, 9, 8, 7, // field 2 seed
        ];
        bytes.extend_from_slice(&[0x0a, 1, b'x']);
        assert_eq!(
            decode(&bytes),
            Ok(Addons {
                flow: "x",
                seed: &[9, 8, 7]
            })
        );
    }

    #[test]
    fn a_repeated_flow_keeps_the_last_value() {
        let bytes = [0x0a, 1, b'a', 0x0a, 1, b'b'];
        assert_eq!(decode(&bytes).map(|a| a.flow), Ok("b"));
    }

    #[test]
    fn a_field_running_past_the_end_is_malformed() {
        assert_eq!(decode(&[0x0a, 5, b'a']), Err(MalformedAddons));
        assert_eq!(decode(&[0x21, 1, 2]), Err(MalformedAddons));
        assert_eq!(decode(&[0x18, 0x80]), Err(MalformedAddons));
    }

    #[test]
    fn groups_field_zero_and_overlong_varints_are_malformed() {
        assert_eq!(decode(&[0x0b]), Err(MalformedAddons)); // start group
        assert_eq!(decode(&[0x02, 0]), Err(MalformedAddons)); // field 0
        let overlong = [
            0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
        ];
        assert_eq!(decode(&overlong), Err(MalformedAddons));
    }

    #[test]
    fn a_flow_that_is_not_utf8_is_malformed() {
        assert_eq!(decode(&[0x0a, 1, 0xff]), Err(MalformedAddons));
    }

    #[test]
    fn an_empty_flow_encodes_to_nothing() {
        let mut out = Vec::new();
        encode_flow("", &mut out);
        assert!(out.is_empty());
    }
}
