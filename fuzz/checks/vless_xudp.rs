//! What must hold for a stream of Mux.Cool frames with XUDP (`vless::mux`), read as the node
//! reads a Mux connection: frames one after another out of a buffer that grows by whatever the
//! socket delivered. Shared by the fuzz target and a stable test. The first input byte chooses
//! the size of the pieces the rest arrives in.

use vless::mux::{decode_frame, encode_frame, Frame, Status};
use vless::Parse;

/// Frames decoded from a buffer, each re-encoded, and whether the stream ended in an error.
#[derive(Debug, PartialEq, Eq)]
struct Read {
    frames: Vec<Vec<u8>>,
    failed: bool,
}

fn check_frame(frame: &Frame<'_>, out: &mut Vec<Vec<u8>>) {
    if let Status::New {
        global_id: Some(id),
        ..
    } = &frame.status
    {
        assert_ne!(id.0, [0; 8], "an all-zero XUDP global id means none");
    }
    let mut bytes = Vec::new();
    encode_frame(frame, &mut bytes).expect("decoded data fits a frame");
    assert_eq!(
        decode_frame(&bytes),
        Ok(Parse::Done {
            value: frame.clone(),
            consumed: bytes.len()
        }),
        "a re-encoded frame decodes to itself"
    );
    out.push(bytes);
}

/// Decodes every complete frame of `buf` from `*pos` on; `true` on a decode error.
fn drain(buf: &[u8], pos: &mut usize, frames: &mut Vec<Vec<u8>>) -> bool {
    loop {
        match decode_frame(&buf[*pos..]) {
            Ok(Parse::Done {
                value: frame,
                consumed: used,
            }) => {
                assert!(used > 0 && *pos + used <= buf.len());
                check_frame(&frame, frames);
                *pos += used;
            }
            Ok(Parse::NeedMore) => return false,
            Err(_) => return true,
        }
    }
}

/// Reads `data[1..]` whole and in pieces; panics (a finding) if the results differ.
pub fn run(data: &[u8]) {
    let Some((&piece, input)) = data.split_first() else {
        return;
    };
    let mut whole = Read {
        frames: Vec::new(),
        failed: false,
    };
    let mut pos = 0;
    whole.failed = drain(input, &mut pos, &mut whole.frames);

    let piece = usize::from(piece).max(1);
    let mut pieces = Read {
        frames: Vec::new(),
        failed: false,
    };
    let mut buf = Vec::new();
    let mut at = 0;
    for chunk in input.chunks(piece) {
        buf.extend_from_slice(chunk);
        if drain(&buf, &mut at, &mut pieces.frames) {
            pieces.failed = true;
            break;
        }
        buf.drain(..at);
        at = 0;
    }
    assert_eq!(
        whole, pieces,
        "the pieces a stream arrives in changed what it says"
    );
}
