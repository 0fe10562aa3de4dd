//! What must hold for the control link's frames (`feed-wire`) on any input, read as each side
//! reads its stream: frame after frame until one is incomplete or an error. Shared by the fuzz
//! target and a stable test.

use std::fmt::Debug;

use feed_wire::{decode_frame, encode_frame, FrameError, Parse, ToControl, ToNode, MAX_FRAME};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Strict prefixes of the first frame checked for "need more" (all of them up to this).
const PREFIXES_CHECKED: usize = 4096;

/// Reads `data` as the node reads the control plane and as the control plane reads a node;
/// panics (a finding) if the frame layer's contract breaks.
pub fn run(data: &[u8]) {
    read_stream::<ToNode>(data);
    read_stream::<ToControl>(data);
}

fn claimed(data: &[u8]) -> Option<usize> {
    data.first_chunk::<4>()
        .map(|h| u32::from_be_bytes(*h) as usize)
}

fn read_stream<T: DeserializeOwned + Serialize + PartialEq + Debug>(data: &[u8]) {
    let mut pos = 0;
    let mut first = None;
    loop {
        let rest = &data[pos..];
        match decode_frame::<T>(rest) {
            Ok(Parse::Done { value, consumed }) => {
                assert_eq!(
                    Some(consumed - 4),
                    claimed(rest),
                    "a frame is its length and payload"
                );
                assert!(consumed <= 4 + MAX_FRAME);
                // What was read is written again as one frame that reads back the same.
                let mut again = Vec::new();
                encode_frame(&value, &mut again).expect("a decoded message fits a frame");
                assert!(again.len() <= consumed, "re-encoding grew");
                match decode_frame::<T>(&again) {
                    Ok(Parse::Done {
                        value: back,
                        consumed,
                    }) => {
                        assert_eq!(back, value, "decode(encode(m)) != m");
                        assert_eq!(consumed, again.len());
                    }
                    other => panic!("a re-encoded message does not read back: {other:?}"),
                }
                first.get_or_insert(consumed);
                pos += consumed;
            }
            Ok(Parse::NeedMore) => {
                let complete = claimed(rest).is_some_and(|len| rest.len() >= 4 + len);
                assert!(!complete, "need more with a whole frame buffered");
                break;
            }
            Err(FrameError::TooLarge(n)) => {
                assert_eq!(claimed(rest), Some(n as usize));
                assert!(n as usize > MAX_FRAME);
                break;
            }
            Err(FrameError::Malformed) => {
                let len = claimed(rest).expect("a length was read");
                assert!(len <= MAX_FRAME && rest.len() >= 4 + len);
                break;
            }
            Err(FrameError::Encode) => panic!("decoding never reports an encoding error"),
        }
    }
    if let Some(used) = first {
        for end in 0..used.min(PREFIXES_CHECKED) {
            assert!(
                matches!(decode_frame::<T>(&data[..end]), Ok(Parse::NeedMore)),
                "prefix of {end}"
            );
        }
    }
}
