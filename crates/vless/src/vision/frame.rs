//! One XTLS Vision padding frame and how long its padding is.
//!
//! Wire layout (big-endian), as Xray-core's `XtlsPadding` writes it:
//!
//! ```text
//! user id:        [u8; 16]   only on the first frame a side sends: the id from the request
//! command:        u8         0 = continue (more frames follow), 1 = end (padding stops),
//!                            2 = direct (padding stops and both sides leave the outer TLS)
//! content len:    u16
//! padding len:    u16
//! content:        [u8; content len]
//! padding:        [u8; padding len]   zeros
//! ```

/// Xray-core's buffer size; frames are sized to fit one buffer.
pub const BUFFER_SIZE: usize = 8192;
/// The most a frame adds to its content: the user id and the five header bytes.
pub const FRAME_OVERHEAD: usize = 16 + HEADER_LEN;
/// The header after the user id: command, content length, padding length.
pub(crate) const HEADER_LEN: usize = 5;

pub(crate) const COMMAND_CONTINUE: u8 = 0;
pub(crate) const COMMAND_END: u8 = 1;
pub(crate) const COMMAND_DIRECT: u8 = 2;

/// What a frame tells the receiver about the frames after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameCommand {
    /// Another padding frame follows.
    Continue,
    /// This is the last frame; later bytes are unpadded, still inside the outer TLS.
    End,
    /// This is the last frame; later bytes bypass the outer TLS (raw TCP).
    Direct,
}

impl FrameCommand {
    pub(crate) fn byte(self) -> u8 {
        match self {
            FrameCommand::Continue => COMMAND_CONTINUE,
            FrameCommand::End => COMMAND_END,
            FrameCommand::Direct => COMMAND_DIRECT,
        }
    }
}

/// The padding length parameters (Xray-core's `testseed`, default `[900, 500, 900, 256]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaddingSeed {
    /// Content shorter than this gets long padding, when long padding is asked for.
    pub long_below: u32,
    /// Long padding: a random value below this ...
    pub long_random: u32,
    /// ... plus this, minus the content length.
    pub long_base: u32,
    /// Otherwise: a random value below this.
    pub short_random: u32,
}

impl Default for PaddingSeed {
    fn default() -> Self {
        PaddingSeed {
            long_below: 900,
            long_random: 500,
            long_base: 900,
            short_random: 256,
        }
    }
}

/// A frame's content does not fit the two-byte length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Vision frame content of {0} bytes exceeds 65535")]
pub struct ContentTooLarge(pub usize);

/// Chooses a padding length as Xray-core does, so frame sizes hide the inner handshake.
///
/// `random_below(n)` must return a uniformly random value in `0..n` (a CSPRNG in production,
/// anything in tests); it is not called with 0. The result never makes a frame exceed
/// [`BUFFER_SIZE`].
pub fn padding_len(
    content_len: usize,
    long: bool,
    seed: &PaddingSeed,
    random_below: &mut impl FnMut(u32) -> u32,
) -> u16 {
    let mut below = |n: u32| {
        if n == 0 {
            0
        } else {
            random_below(n).min(n - 1)
        }
    };
    let content = u32::try_from(content_len).unwrap_or(u32::MAX);
    let wanted = if long && content < seed.long_below {
        (below(seed.long_random) + seed.long_base).saturating_sub(content)
    } else {
        below(seed.short_random)
    };
    let room = (BUFFER_SIZE - FRAME_OVERHEAD).saturating_sub(content_len);
    let room = u32::try_from(room).unwrap_or(u32::MAX);
    // `room` is at most 8171, so the minimum fits in u16.
    wanted.min(room) as u16
}

/// Appends one frame: the user id if given, the header, the content and `padding_len` zeros.
pub fn encode_frame(
    user: Option<&[u8; 16]>,
    command: FrameCommand,
    content: &[u8],
    padding_len: u16,
    out: &mut Vec<u8>,
) -> Result<(), ContentTooLarge> {
    let content_len = u16::try_from(content.len()).map_err(|_| ContentTooLarge(content.len()))?;
    if let Some(user) = user {
        out.extend_from_slice(user);
    }
    out.push(command.byte());
    out.extend_from_slice(&content_len.to_be_bytes());
    out.extend_from_slice(&padding_len.to_be_bytes());
    out.extend_from_slice(content);
    out.resize(out.len() + usize::from(padding_len), 0);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_frame_starts_with_the_user_id() {
        let mut out = Vec::new();
        encode_frame(
            Some(&[0xab; 16]),
            FrameCommand::Continue,
            b"hey",
            2,
            &mut out,
        )
        .unwrap();
        let mut want = vec![0xab; 16];
        want.extend_from_slice(&[0, 0, 3, 0, 2, b'h', b'e', b'y', 0, 0]);
        assert_eq!(out, want);
    }

    #[test]
    fn a_later_frame_has_only_the_header() {
        let mut out = Vec::new();
        encode_frame(None, FrameCommand::Direct, &[], 0, &mut out).unwrap();
        assert_eq!(out, [2, 0, 0, 0, 0]);
    }

    #[test]
    fn short_content_gets_long_padding_up_to_the_base() {
        let seed = PaddingSeed::default();
        assert_eq!(padding_len(100, true, &seed, &mut |_| 0), 800);
        assert_eq!(padding_len(100, true, &seed, &mut |n| n - 1), 1299);
        assert_eq!(padding_len(100, false, &seed, &mut |n| n - 1), 255);
        assert_eq!(padding_len(1000, true, &seed, &mut |_| 7), 7);
    }

    #[test]
    fn padding_never_overflows_a_buffer() {
        let seed = PaddingSeed::default();
        assert_eq!(padding_len(8100, false, &seed, &mut |n| n - 1), 71);
        assert_eq!(padding_len(9000, false, &seed, &mut |n| n - 1), 0);
    }

    #[test]
    fn an_out_of_range_random_value_is_clamped() {
        let seed = PaddingSeed::default();
        assert_eq!(padding_len(2000, false, &seed, &mut |_| u32::MAX), 255);
    }

    #[test]
    fn content_over_64k_is_refused() {
        let mut out = Vec::new();
        assert_eq!(
            encode_frame(None, FrameCommand::End, &vec![0; 70000], 0, &mut out),
            Err(ContentTooLarge(70000))
        );
    }
}
