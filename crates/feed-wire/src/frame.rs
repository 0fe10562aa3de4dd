//! Frames: a `u32` big-endian length of the rest, then a postcard payload of at most [`MAX_FRAME`] bytes.

use parse_outcome::Parse;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::messages::{ToControl, ToNode};

/// Largest payload a frame may carry (1 MiB); a longer claimed length is an error at once,
/// before any byte of it is buffered.
pub const MAX_FRAME: usize = 1 << 20;

/// Bytes of the length prefix.
pub const HEADER: usize = 4;

/// Why a frame cannot be written or read. After a read error the stream is lost: close it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("a frame of {0} bytes is over the limit of {MAX_FRAME}")]
    TooLarge(u64),
    #[error("a frame's payload is not a message of this protocol")]
    Malformed,
    #[error("a message cannot be encoded")]
    Encode,
}

/// Appends `message` as one frame to `out`.
pub fn encode_frame<T: Serialize>(message: &T, out: &mut Vec<u8>) -> Result<(), FrameError> {
    let payload = postcard::to_stdvec(message).map_err(|_| FrameError::Encode)?;
    let len = u32::try_from(payload.len())
        .ok()
        .filter(|&len| len as usize <= MAX_FRAME)
        .ok_or(FrameError::TooLarge(payload.len() as u64))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&payload);
    Ok(())
}

/// Reads the frame at the start of `buf`: the message and the bytes it took, or `NeedMore`
/// while it has not fully arrived. Trailing bytes inside a frame make it malformed.
pub fn decode_frame<T: DeserializeOwned>(buf: &[u8]) -> Result<Parse<T>, FrameError> {
    let Some((header, rest)) = buf.split_first_chunk::<HEADER>() else {
        return Ok(Parse::NeedMore);
    };
    let len = u32::from_be_bytes(*header);
    if len as usize > MAX_FRAME {
        return Err(FrameError::TooLarge(u64::from(len)));
    }
    let Some(payload) = rest.get(..len as usize) else {
        return Ok(Parse::NeedMore);
    };
    match postcard::take_from_bytes::<T>(payload) {
        Ok((value, [])) => Ok(Parse::Done {
            value,
            consumed: HEADER + len as usize,
        }),
        _ => Err(FrameError::Malformed),
    }
}

impl ToControl {
    /// Appends this message as one frame to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), FrameError> {
        encode_frame(self, out)
    }

    /// Reads one message from the start of `buf` (see [`decode_frame`]).
    pub fn decode(buf: &[u8]) -> Result<Parse<Self>, FrameError> {
        decode_frame(buf)
    }
}

impl ToNode {
    /// Appends this message as one frame to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), FrameError> {
        encode_frame(self, out)
    }

    /// Reads one message from the start of `buf` (see [`decode_frame`]).
    pub fn decode(buf: &[u8]) -> Result<Parse<Self>, FrameError> {
        decode_frame(buf)
    }
}
