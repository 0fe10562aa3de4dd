//! Runs the `feed_wire_frames` fuzz target's checks (`fuzz/checks/feed_wire_frames.rs`) on
//! stable Rust, over the committed corpus (`fuzz/corpus/feed_wire_frames/`) and generated
//! streams of real messages, cut or with a byte changed.

use feed_wire::{Refusal, Resume, ToControl, ToNode, WireEntry};
use proptest::prelude::*;

#[path = "../../../fuzz/checks/feed_wire_frames.rs"]
mod checks;

#[path = "../../../fuzz/checks/corpus.rs"]
mod corpus;

#[test]
fn the_feed_wire_checks_hold_on_the_committed_corpus() {
    for (name, bytes) in corpus::corpus("feed_wire_frames") {
        println!("{name}");
        checks::run(&bytes);
    }
}

fn to_node() -> impl Strategy<Value = ToNode> {
    let entry = (any::<[u8; 16]>(), any::<i64>())
        .prop_map(|(key, expires_at)| WireEntry { key, expires_at });
    prop_oneof![
        ".{0,20}".prop_map(|node_name| ToNode::Joined { node_name }),
        Just(ToNode::Refused {
            reason: Refusal::Disabled
        }),
        (any::<[u8; 16]>(), any::<u64>(), any::<u64>()).prop_map(|(epoch, revision, total)| {
            ToNode::SnapshotBegin {
                epoch,
                revision,
                total,
            }
        }),
        proptest::collection::vec(entry.clone(), 0..5)
            .prop_map(|entries| ToNode::SnapshotChunk { entries }),
        Just(ToNode::SnapshotEnd),
        (
            any::<u64>(),
            proptest::collection::vec(entry, 0..3),
            proptest::collection::vec(any::<[u8; 16]>(), 0..3)
        )
            .prop_map(|(revision, upserts, revoked)| ToNode::Changes {
                revision,
                upserts,
                revoked
            }),
        any::<u64>().prop_map(|nonce| ToNode::Ping { nonce }),
    ]
}

fn to_control() -> impl Strategy<Value = ToControl> {
    prop_oneof![
        (any::<u16>(), ".{0,10}", any::<Option<([u8; 16], u64)>>()).prop_map(
            |(protocol_version, software_version, resume)| ToControl::Hello {
                protocol_version,
                software_version,
                resume: resume.map(|(epoch, revision)| Resume { epoch, revision }),
            }
        ),
        any::<u64>().prop_map(|revision| ToControl::Applied { revision }),
        (any::<u64>(), any::<u64>(), any::<u64>()).prop_map(
            |(connections, bytes_up, bytes_down)| {
                ToControl::Stats {
                    connections,
                    bytes_up,
                    bytes_down,
                }
            }
        ),
        any::<u64>().prop_map(|nonce| ToControl::Pong { nonce }),
    ]
}

fn edited(mut bytes: Vec<u8>, at: prop::sample::Index, byte: u8, edit: u8) -> Vec<u8> {
    if !bytes.is_empty() {
        let i = at.index(bytes.len());
        match edit {
            0 => bytes.truncate(i),
            1 => bytes[i] = byte,
            _ => {}
        }
    }
    bytes
}

fn stream() -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::collection::vec(to_node(), 0..5),
        proptest::collection::vec(to_control(), 0..5),
        any::<prop::sample::Index>(),
        any::<u8>(),
        0u8..3,
    )
        .prop_map(|(nodes, controls, at, byte, edit)| {
            let mut bytes = Vec::new();
            for m in &nodes {
                m.encode(&mut bytes).expect("small message");
            }
            for m in &controls {
                m.encode(&mut bytes).expect("small message");
            }
            edited(bytes, at, byte, edit)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_frame_fuzz_checks_hold_on_stable(input in prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..300),
        stream(),
    ]) {
        checks::run(&input);
    }
}
