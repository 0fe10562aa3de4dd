//! Frames and messages of the control link as the two sides exchange them: every message survives the wire, streams cut anywhere resume, and oversized or malformed frames are errors.

use feed_wire::{
    decode_frame, encode_frame, FrameError, NodeSettings, Parse, Refusal, Resume, SecuritySettings,
    ToControl, ToNode, WireEntry, MAX_CHUNK_ENTRIES, MAX_FRAME,
};
use feed_wire::{CertPin, JoinToken};

fn every_to_node() -> Vec<ToNode> {
    vec![
        ToNode::Joined {
            node_name: "de-1 Frankfurt".into(),
        },
        ToNode::Refused {
            reason: Refusal::TokenUsed,
        },
        ToNode::Settings(Box::new(NodeSettings {
            port: 443,
            security: SecuritySettings::Reality {
                private_key: [3; 32],
                short_ids: vec!["".into(), "0123456789abcdef".into()],
                dest: "www.example.com:443".into(),
                server_names: vec!["www.example.com".into()],
                max_time_diff_ms: 60_000,
                mldsa65_seed: Some([4; 32]),
            },
            upstream: Some(Box::new(feed_wire::Upstream {
                host: "exit.example.com".into(),
                port: 443,
                public_key: [5; 32],
                short_id: "0123".into(),
                server_name: "www.example.com".into(),
                key: [6; 16],
            })),
            peer_keys: vec![],
            http: Default::default(),
        })),
        ToNode::Settings(Box::new(NodeSettings {
            port: 8443,
            security: SecuritySettings::Tls {
                certificate_pem: "-----BEGIN CERTIFICATE-----\n".into(),
                private_key_pem: "-----BEGIN PRIVATE KEY-----\n".into(),
            },
            upstream: None,
            peer_keys: vec![[7; 16], [8; 16]],
            http: feed_wire::HttpSettings {
                ws_path: Some("/s3cret/ws".into()),
                httpupgrade_path: None,
                xhttp_path: Some("/s3cret/xh".into()),
                grpc_service_name: Some("s3cret.grpc".into()),
            },
        })),
        ToNode::SnapshotBegin {
            epoch: [9; 16],
            revision: u64::MAX,
            total: 1_000_000,
        },
        ToNode::SnapshotChunk {
            entries: vec![
                WireEntry {
                    key: [1; 16],
                    expires_at: i64::MIN,
                },
                WireEntry {
                    key: [2; 16],
                    expires_at: 1_800_000_000,
                },
            ],
        },
        ToNode::SnapshotEnd,
        ToNode::Changes {
            revision: 42,
            upserts: vec![WireEntry {
                key: [5; 16],
                expires_at: -1,
            }],
            revoked: vec![[6; 16], [7; 16]],
        },
        ToNode::Ping { nonce: 77 },
    ]
}

fn every_to_control() -> Vec<ToControl> {
    vec![
        ToControl::Join {
            protocol_version: feed_wire::PROTOCOL_VERSION,
            token: JoinToken::from_bytes([8; 32]),
        },
        ToControl::Hello {
            protocol_version: feed_wire::PROTOCOL_VERSION,
            software_version: "0.1.0".into(),
            resume: Some(Resume {
                epoch: [1; 16],
                revision: 10,
            }),
        },
        ToControl::Hello {
            protocol_version: 1,
            software_version: String::new(),
            resume: None,
        },
        ToControl::Applied { revision: 11 },
        ToControl::Stats {
            connections: 3,
            bytes_up: 1 << 40,
            bytes_down: 5,
        },
        ToControl::Pong { nonce: u64::MAX },
    ]
}

#[test]
fn every_message_survives_a_stream_of_frames_cut_at_every_byte() {
    let messages = every_to_node();
    let mut stream = Vec::new();
    for m in &messages {
        m.encode(&mut stream).unwrap();
    }
    // Feed the stream as it might arrive, one byte more each time, as a reader buffers it.
    let mut got = Vec::new();
    let mut buffered = 0;
    let mut start = 0;
    while buffered < stream.len() {
        buffered += 1;
        while let Parse::Done { value, consumed } =
            ToNode::decode(&stream[start..buffered]).unwrap()
        {
            got.push(value);
            start += consumed;
        }
    }
    assert_eq!(got, messages);
    assert_eq!(start, stream.len());
}

#[test]
fn node_messages_survive_the_wire() {
    for m in every_to_control() {
        let mut buf = Vec::new();
        m.encode(&mut buf).unwrap();
        let len = u32::from_be_bytes(buf[..4].try_into().unwrap()) as usize;
        assert_eq!(len + 4, buf.len(), "the prefix is the length of the rest");
        assert_eq!(
            ToControl::decode(&buf).unwrap(),
            Parse::Done {
                value: m,
                consumed: buf.len()
            }
        );
    }
}

#[test]
fn a_full_chunk_of_the_largest_entries_fits_one_frame_with_room_to_spare() {
    let entries = vec![
        WireEntry {
            key: [0xff; 16],
            expires_at: i64::MIN,
        };
        MAX_CHUNK_ENTRIES
    ];
    let mut buf = Vec::new();
    ToNode::SnapshotChunk { entries }.encode(&mut buf).unwrap();
    assert!(buf.len() < MAX_FRAME / 3, "{} bytes", buf.len());
}

#[test]
fn a_claimed_length_over_the_limit_is_an_error_before_its_bytes_arrive() {
    let mut buf = ((MAX_FRAME + 1) as u32).to_be_bytes().to_vec();
    assert_eq!(
        ToNode::decode(&buf),
        Err(FrameError::TooLarge(MAX_FRAME as u64 + 1))
    );
    buf = u32::MAX.to_be_bytes().to_vec();
    assert_eq!(
        ToNode::decode(&buf),
        Err(FrameError::TooLarge(u32::MAX.into()))
    );
    // Exactly the limit is still a frame that may be coming.
    buf = (MAX_FRAME as u32).to_be_bytes().to_vec();
    assert_eq!(ToNode::decode(&buf), Ok(Parse::NeedMore));
}

#[test]
fn a_message_too_big_for_a_frame_is_not_encoded() {
    let huge = ToNode::Joined {
        node_name: "x".repeat(MAX_FRAME + 1),
    };
    let mut buf = vec![1, 2];
    assert!(matches!(
        huge.encode(&mut buf),
        Err(FrameError::TooLarge(_))
    ));
    assert_eq!(buf, [1, 2], "nothing was appended");
}

#[test]
fn empty_unknown_and_padded_payloads_are_malformed() {
    let frame = |payload: &[u8]| {
        let mut buf = (payload.len() as u32).to_be_bytes().to_vec();
        buf.extend_from_slice(payload);
        buf
    };
    assert_eq!(ToNode::decode(&frame(&[])), Err(FrameError::Malformed));
    // Variant 200 does not exist.
    assert_eq!(
        ToNode::decode(&frame(&[200, 1])),
        Err(FrameError::Malformed)
    );
    // A valid Ping followed by a stray byte inside the same frame.
    let mut ping = Vec::new();
    ToNode::Ping { nonce: 1 }.encode(&mut ping).unwrap();
    let mut padded = ping[4..].to_vec();
    padded.push(0);
    assert_eq!(ToNode::decode(&frame(&padded)), Err(FrameError::Malformed));
    // A node message read as a control-plane message is not silently accepted as another one.
    let mut join = Vec::new();
    every_to_control()[0].encode(&mut join).unwrap();
    assert_eq!(ToNode::decode(&join), Err(FrameError::Malformed));
}

#[test]
fn a_chunk_claiming_a_billion_entries_in_a_small_frame_fails_without_allocating_them() {
    // SnapshotChunk is variant 4; then a varint length of 10^9 and no entries.
    let mut payload = vec![4];
    let mut n: u64 = 1_000_000_000;
    while n >= 0x80 {
        payload.push((n as u8) | 0x80);
        n >>= 7;
    }
    payload.push(n as u8);
    let mut buf = (payload.len() as u32).to_be_bytes().to_vec();
    buf.extend_from_slice(&payload);
    assert_eq!(ToNode::decode(&buf), Err(FrameError::Malformed));
}

#[test]
fn generic_frames_carry_any_serde_value_and_the_pin_of_a_certificate() {
    let pin = CertPin::of_der(b"der");
    let mut buf = Vec::new();
    encode_frame(&pin, &mut buf).unwrap();
    assert_eq!(
        decode_frame::<CertPin>(&buf),
        Ok(Parse::Done {
            value: pin,
            consumed: buf.len()
        })
    );
}
