//! What must hold for gRPC gun's decoders (`xhttp::gun`) on any bytes, read as a server reads a
//! `Tun` or `TunMulti` body: message after message until one is incomplete or an error. Shared
//! by the fuzz target and a stable test.

use xhttp::gun::{
    decode_hunk, decode_message, decode_multi_hunk, encode_hunk, encode_multi_hunk, GunError,
    PREFIX_LEN,
};
use xhttp::Parse;

/// A small limit, so inputs reach both sides of it.
const MAX: usize = 300;
/// Strict prefixes of the first message checked for "need more".
const PREFIXES_CHECKED: usize = 512;

fn claimed(data: &[u8]) -> Option<usize> {
    let len = data.get(1..PREFIX_LEN)?;
    Some(u32::from_be_bytes(len.try_into().ok()?) as usize)
}

/// Reads `data` as a stream of gun messages; panics (a finding) if the decoders' contract
/// breaks.
pub fn run(data: &[u8]) {
    let mut pos = 0;
    let mut first = None;
    loop {
        let rest = &data[pos..];
        let message = decode_message(rest, MAX);
        let hunk = decode_hunk(rest, MAX);
        let multi = decode_multi_hunk(rest, MAX);
        match (message, hunk) {
            (
                Ok(Parse::Done {
                    consumed,
                    value: body,
                }),
                Ok(Parse::Done { value, consumed: c }),
            ) => {
                assert_eq!(c, consumed);
                assert_eq!(Some(consumed - PREFIX_LEN), claimed(rest));
                assert_eq!(body.len(), consumed - PREFIX_LEN);
                // What was read is written again and reads back the same.
                let mut again = Vec::new();
                encode_hunk(value, &mut again).expect("a decoded hunk fits");
                match decode_hunk(&again, usize::MAX) {
                    Ok(Parse::Done {
                        value: back,
                        consumed,
                    }) => {
                        assert_eq!((back, consumed), (value, again.len()));
                    }
                    other => panic!("a re-encoded hunk does not read back: {other:?}"),
                }
                let Ok(Parse::Done { value: all, .. }) = multi else {
                    panic!("a hunk that is no multi-hunk: {multi:?}");
                };
                // A Hunk keeps the last field 1, a MultiHunk all of them.
                assert_eq!(all.last().copied().unwrap_or_default(), value);
                let mut again = Vec::new();
                encode_multi_hunk(&all, &mut again).expect("a decoded multi-hunk fits");
                match decode_multi_hunk(&again, usize::MAX) {
                    Ok(Parse::Done { value: back, .. }) => assert_eq!(back, all),
                    other => panic!("a re-encoded multi-hunk does not read back: {other:?}"),
                }
                first.get_or_insert(consumed);
                pos += consumed;
            }
            (Ok(Parse::Done { .. }), Err(e)) => {
                assert_eq!(e, GunError::Malformed, "only the body can be wrong");
                assert_eq!(multi, Err(GunError::Malformed));
                break;
            }
            (Ok(Parse::NeedMore), hunk) => {
                assert_eq!(hunk, Ok(Parse::NeedMore));
                let complete = claimed(rest).is_some_and(|len| rest.len() >= PREFIX_LEN + len);
                assert!(!complete, "need more with a whole message buffered");
                break;
            }
            (Err(e), hunk) => {
                assert_eq!(hunk, Err(e));
                match e {
                    GunError::Compressed => assert_ne!(rest.first(), Some(&0)),
                    GunError::TooLarge(n) => {
                        assert_eq!(claimed(rest), Some(n as usize));
                        assert!(n as usize > MAX);
                    }
                    GunError::Malformed => panic!("the prefix alone is never malformed"),
                }
                break;
            }
            (Ok(Parse::Done { .. }), Ok(Parse::NeedMore)) => panic!("a message but no hunk"),
        }
    }
    if let Some(used) = first {
        for end in 0..used.min(PREFIXES_CHECKED) {
            assert_eq!(
                decode_hunk(&data[..end], MAX),
                Ok(Parse::NeedMore),
                "prefix {end}"
            );
        }
    }
}
