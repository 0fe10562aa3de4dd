//! What must hold for the TLS 1.3 record layer a REALITY connection reads after its handshake
//! (`reality::RecordLayer`), on any byte stream a peer may send. Shared by the fuzz target and a
//! stable test.
//!
//! Input: `[suite and piece size, ops...]`. Each op appends to the wire what a peer would send,
//! protected with the reader's keys unless it is garbage: application data, a handshake
//! message (a session ticket; a KeyUpdate when it starts with 24), an alert, a late
//! ChangeCipherSpec, raw bytes, or application data with padding; a set high bit flips one
//! byte of what the op wrote. The wire is read whole and in pieces.

use reality::fuzzing::{record_layer, Sealer};
use reality::{CipherSuite, ContentType, Received, RecordLayer};

/// The peer's write secret (the reader's read secret) and the reader's write secret, as
/// repeated bytes.
const SECRET: u8 = 7;
const OTHER: u8 = 9;

/// What reading a wire gave: each call's outcome, the plaintext, what was left undecrypted.
#[derive(Debug, PartialEq, Eq)]
struct Reading {
    outcomes: Vec<Result<Received, reality::TlsError>>,
    data: Vec<u8>,
    left: Vec<u8>,
}

fn layer(suite: CipherSuite) -> RecordLayer {
    record_layer(suite, OTHER, SECRET)
}

/// Reads what is buffered until it needs more, is closed or fails; `false` when it stopped
/// for good.
fn read_all(layer: &mut RecordLayer, reading: &mut Reading) -> bool {
    loop {
        let before = layer.buffered_len();
        let outcome = layer.read(&mut reading.data);
        reading.outcomes.push(outcome.clone());
        match outcome {
            Ok(Received::NeedMore) => {
                reading.outcomes.pop();
                return true;
            }
            Ok(Received::Closed) | Err(_) => return false,
            Ok(Received::Data(_) | Received::Other) => {
                assert!(
                    layer.buffered_len() < before,
                    "a record read consumed nothing"
                );
            }
        }
    }
}

/// Builds the wire from `ops`; returns it, the plaintext of its first clean records (those a
/// reader must take), and whether every record was clean application data or tickets.
fn wire(suite: CipherSuite, mut ops: &[u8]) -> (Vec<u8>, Vec<u8>, bool) {
    let mut sealer = Sealer::new(suite, SECRET);
    let mut wire = Vec::new();
    let mut clean_data = Vec::new();
    let mut clean = true;
    while let Some((&[op, len], rest)) = ops.split_first_chunk::<2>() {
        let len = (usize::from(len) * 67).min(rest.len());
        let (payload, after) = rest.split_at(len);
        ops = after;
        let start = wire.len();
        let sealed = match op & 0x7f {
            0..=39 => sealer.seal(ContentType::ApplicationData, payload, 0, &mut wire),
            40..=59 => sealer.seal(ContentType::Handshake, payload, 0, &mut wire),
            60..=69 => sealer.seal(ContentType::Alert, payload, 0, &mut wire),
            70..=79 => {
                wire.extend_from_slice(&[20, 3, 3, 0, 1, 1]);
                Ok(())
            }
            80..=89 => {
                wire.extend_from_slice(payload);
                Ok(())
            }
            pad => sealer.seal(
                ContentType::ApplicationData,
                payload,
                usize::from(pad) * 97,
                &mut wire,
            ),
        };
        if sealed.is_err() {
            // Too much padding: nothing was written that the reader must take.
            wire.truncate(start);
            clean = false;
            continue;
        }
        let flipped = op & 0x80 != 0 && wire.len() > start;
        if flipped {
            let at = start + usize::from(len as u8) % (wire.len() - start);
            wire[at] ^= 1 + (op & 0x3f);
        }
        let kind = op & 0x7f;
        let ticket = (40..=59).contains(&kind) && payload.first() != Some(&24);
        let data = kind <= 39 || kind >= 90;
        if clean && !flipped && (data || ticket || (70..=79).contains(&kind)) {
            if data {
                clean_data.extend_from_slice(&payload[..payload.len().min(reality::MAX_PLAINTEXT)]);
            }
        } else {
            clean = false;
        }
    }
    (wire, clean_data, clean)
}

/// Runs the reader over the wire `data` describes; panics (a finding) if the contract breaks.
pub fn run(data: &[u8]) {
    let Some((&first, ops)) = data.split_first() else {
        return;
    };
    let suite = CipherSuite::ALL[usize::from(first % 3)];
    let (wire, clean_data, all_clean) = wire(suite, ops);

    let mut whole = Reading {
        outcomes: Vec::new(),
        data: Vec::new(),
        left: Vec::new(),
    };
    let mut reader = layer(suite);
    reader.feed(&wire);
    let open = read_all(&mut reader, &mut whole);
    let failed = matches!(whole.outcomes.last(), Some(Err(_)));
    // After an error the connection is over, and a record that failed was decrypted in place:
    // only a live connection hands its undecrypted bytes to direct copy.
    if !failed {
        whole.left = reader.take_buffered();
        assert_eq!(reader.buffered_len(), 0);
    }

    // Every clean record at the start is read, in order and whole.
    assert!(whole.data.starts_with(&clean_data), "clean records misread");
    if all_clean {
        assert!(open, "a clean wire failed: {:?}", whole.outcomes.last());
        assert_eq!(whole.data, clean_data);
        assert!(whole.left.is_empty(), "a clean wire left bytes unread");
    }
    // What is handed back for direct copy is exactly the unread tail of the wire.
    assert!(
        wire.ends_with(&whole.left),
        "handed back bytes that were not received"
    );

    let piece = usize::from(first / 3).max(1);
    let mut pieces = Reading {
        outcomes: Vec::new(),
        data: Vec::new(),
        left: Vec::new(),
    };
    let mut reader = layer(suite);
    let mut fed = 0;
    for chunk in wire.chunks(piece) {
        reader.feed(chunk);
        fed += chunk.len();
        if !read_all(&mut reader, &mut pieces) {
            break;
        }
    }
    if !failed {
        pieces.left = reader.take_buffered();
        pieces.left.extend_from_slice(&wire[fed..]);
    }
    assert_eq!(
        whole, pieces,
        "the pieces the wire arrived in changed what was read"
    );
}
