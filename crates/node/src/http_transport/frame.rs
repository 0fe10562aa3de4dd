//! WebSocket framing (RFC 6455 §5), sans-I/O, for the server's side: frame headers read from a
//! client (always masked) and written to it (never masked). Payloads are not buffered here: a
//! data frame's payload is unmasked as it streams past, so a frame's length costs no memory.

use parse_outcome::Parse;

/// Opcodes (RFC 6455 §5.2).
pub(crate) const CONTINUATION: u8 = 0x0;
pub(crate) const TEXT: u8 = 0x1;
pub(crate) const BINARY: u8 = 0x2;
pub(crate) const CLOSE: u8 = 0x8;
pub(crate) const PING: u8 = 0x9;
pub(crate) const PONG: u8 = 0xA;

/// A control frame's payload is at most this long (RFC 6455 §5.5).
pub(crate) const MAX_CONTROL_PAYLOAD: u64 = 125;

/// A client frame's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) fin: bool,
    pub(crate) opcode: u8,
    pub(crate) len: u64,
    pub(crate) mask: [u8; 4],
}

impl Header {
    pub(crate) fn is_control(&self) -> bool {
        self.opcode & 0x8 != 0
    }
}

/// Why a client's frame is not one we accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum FrameError {
    #[error("reserved bits set")]
    Reserved,
    #[error("unknown opcode")]
    Opcode,
    #[error("a client frame must be masked")]
    Unmasked,
    #[error("a control frame must be short and final")]
    Control,
    #[error("a 64-bit length must have its top bit clear")]
    Length,
}

/// Reads a client frame's header from the start of `buf`.
pub(crate) fn decode_header(buf: &[u8]) -> Result<Parse<Header>, FrameError> {
    let (Some(&b0), Some(&b1)) = (buf.first(), buf.get(1)) else {
        return Ok(Parse::NeedMore);
    };
    if b0 & 0x70 != 0 {
        return Err(FrameError::Reserved);
    }
    let fin = b0 & 0x80 != 0;
    let opcode = b0 & 0x0F;
    if !matches!(opcode, CONTINUATION | TEXT | BINARY | CLOSE | PING | PONG) {
        return Err(FrameError::Opcode);
    }
    if b1 & 0x80 == 0 {
        return Err(FrameError::Unmasked);
    }
    let (len, at) = match b1 & 0x7F {
        126 => match buf.get(2..4) {
            Some(b) => (u64::from(u16::from_be_bytes([b[0], b[1]])), 4),
            None => return Ok(Parse::NeedMore),
        },
        127 => match buf.get(2..10) {
            Some(b) => {
                let mut be = [0u8; 8];
                be.copy_from_slice(b);
                let len = u64::from_be_bytes(be);
                if len >> 63 != 0 {
                    return Err(FrameError::Length);
                }
                (len, 10)
            }
            None => return Ok(Parse::NeedMore),
        },
        short => (u64::from(short), 2),
    };
    let header = Header {
        fin,
        opcode,
        len,
        mask: [0; 4],
    };
    if header.is_control() && (!fin || len > MAX_CONTROL_PAYLOAD) {
        return Err(FrameError::Control);
    }
    let Some(m) = buf.get(at..at + 4) else {
        return Ok(Parse::NeedMore);
    };
    Ok(Parse::Done {
        value: Header {
            mask: [m[0], m[1], m[2], m[3]],
            ..header
        },
        consumed: at + 4,
    })
}

/// Unmasks `data` in place, `offset` bytes into its frame's payload.
pub(crate) fn unmask(data: &mut [u8], mask: [u8; 4], offset: u64) {
    for (i, byte) in data.iter_mut().enumerate() {
        // `% 4` keeps the index in range whatever the offset.
        let k = ((offset + i as u64) % 4) as usize;
        *byte ^= mask[k];
    }
}

/// Appends an unmasked, final server frame's header for a payload of `len` bytes.
pub(crate) fn encode_header(out: &mut Vec<u8>, opcode: u8, len: usize) {
    out.push(0x80 | (opcode & 0x0F));
    if len < 126 {
        out.push(len as u8);
    } else if let Ok(short) = u16::try_from(len) {
        out.push(126);
        out.extend_from_slice(&short.to_be_bytes());
    } else {
        out.push(127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A masked client frame, as a client would send it.
    fn client_frame(opcode: u8, fin: bool, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_header(&mut out, opcode, payload.len());
        if !fin {
            out[0] &= 0x7F;
        }
        out[1] |= 0x80;
        out.extend_from_slice(&mask);
        let mut body = payload.to_vec();
        unmask(&mut body, mask, 0);
        out.extend_from_slice(&body);
        out
    }

    #[test]
    fn headers_of_every_length_form_decode_and_unmask_back() {
        for len in [0usize, 1, 125, 126, 65_535, 65_536, 70_000] {
            let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let frame = client_frame(BINARY, true, &payload, [1, 2, 3, 4]);
            let Parse::Done { value, consumed } = decode_header(&frame).unwrap() else {
                panic!("complete header for {len}")
            };
            assert_eq!(value.len, len as u64);
            assert!(value.fin);
            assert_eq!(value.opcode, BINARY);
            // Every strict prefix of the header asks for more.
            for cut in 0..consumed {
                assert_eq!(
                    decode_header(&frame[..cut]),
                    Ok(Parse::NeedMore),
                    "{len} {cut}"
                );
            }
            // Unmasking in two pieces at an odd offset gives the payload back.
            let mut body = frame[consumed..].to_vec();
            let split = body.len() / 3;
            let (a, b) = body.split_at_mut(split);
            unmask(a, value.mask, 0);
            unmask(b, value.mask, split as u64);
            assert!(body == payload);
        }
    }

    #[test]
    fn frames_a_server_must_not_accept_are_refused() {
        let mut unmasked = Vec::new();
        encode_header(&mut unmasked, BINARY, 3);
        assert_eq!(decode_header(&unmasked), Err(FrameError::Unmasked));
        let mut reserved = client_frame(BINARY, true, b"x", [0; 4]);
        reserved[0] |= 0x40;
        assert_eq!(decode_header(&reserved), Err(FrameError::Reserved));
        let mut opcode = client_frame(BINARY, true, b"x", [0; 4]);
        opcode[0] = 0x83;
        assert_eq!(decode_header(&opcode), Err(FrameError::Opcode));
        let fragmented_ping = client_frame(PING, false, b"x", [0; 4]);
        assert_eq!(decode_header(&fragmented_ping), Err(FrameError::Control));
        let long_ping = client_frame(PING, true, &[0; 126], [0; 4]);
        assert_eq!(decode_header(&long_ping), Err(FrameError::Control));
        let huge = [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4];
        assert_eq!(decode_header(&huge), Err(FrameError::Length));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let bytes = seed.to_le_bytes();
            let n = (seed % 15) as usize;
            let mut buf = bytes.to_vec();
            buf.extend_from_slice(&bytes[..n.min(8)]);
            let _ = decode_header(&buf[..n.min(buf.len())]);
        }
    }
}
