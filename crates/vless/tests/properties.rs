//! Property tests for every codec: encode then decode is the identity, every strict prefix of
//! an encoding needs more bytes, and arbitrary bytes never make a decoder panic.
#![allow(clippy::unwrap_used)] // tests may unwrap: a failure is the test failing

use proptest::prelude::*;
use std::net::{Ipv4Addr, Ipv6Addr};
use vless::mux::{self, Frame, GlobalId, Network, Status, Target};
use vless::{
    decode_request, decode_response, encode_request, encode_response, udp, Address, Command,
    Destination, Flow, Parse, Request, UserKey,
};

fn address() -> impl Strategy<Value = Address> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|b| Address::Ipv4(Ipv4Addr::from(b))),
        any::<[u8; 16]>().prop_map(|b| Address::Ipv6(Ipv6Addr::from(b))),
        // Through the validating constructor, so IP-looking names take their canonical form.
        "[a-zA-Z0-9._-]{1,255}".prop_map(|name| Address::domain(&name).unwrap()),
    ]
}

fn destination() -> impl Strategy<Value = Destination> {
    (address(), any::<u16>()).prop_map(|(address, port)| Destination { address, port })
}

fn request() -> impl Strategy<Value = Request> {
    let command = prop_oneof![Just(Command::Tcp), Just(Command::Udp), Just(Command::Mux)];
    let flow = prop_oneof![Just(Flow::None), Just(Flow::Vision)];
    (any::<[u8; 16]>(), flow, command, destination()).prop_map(
        |(id, flow, command, destination)| Request {
            user: UserKey(id),
            flow,
            command,
            destination: (command != Command::Mux).then_some(destination),
        },
    )
}

fn frame_parts() -> impl Strategy<Value = (u16, Status, bool, Option<Vec<u8>>)> {
    let network = prop_oneof![Just(Network::Tcp), Just(Network::Udp)];
    let global_id =
        proptest::option::of(any::<[u8; 8]>().prop_filter("zero means none", |id| *id != [0; 8]));
    let data = proptest::option::of(proptest::collection::vec(any::<u8>(), 0..300));
    let new =
        (network, destination(), global_id).prop_map(|(network, destination, id)| Status::New {
            target: Target {
                network,
                destination,
            },
            global_id: id.map(GlobalId),
        });
    let status = prop_oneof![
        new,
        proptest::option::of(destination()).prop_map(|udp_peer| Status::Keep { udp_peer }),
        Just(Status::End),
        Just(Status::KeepAlive),
    ];
    (any::<u16>(), status, any::<bool>(), data).prop_map(|(session_id, mut status, error, data)| {
        // Like Xray-core, a global id travels only on a UDP New frame that carries data.
        if let Status::New { target, global_id } = &mut status {
            if target.network == Network::Tcp || data.is_none() {
                *global_id = None;
            }
        }
        (session_id, status, error, data)
    })
}

/// Random bytes, half of them nudged past the first checks (version 0 and a short addons
/// length for requests) so the deeper branches see random input too.
fn request_like_bytes() -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::collection::vec(any::<u8>(), 0..400),
        any::<bool>(),
    )
        .prop_map(|(mut bytes, nudge)| {
            if nudge && bytes.len() > 18 {
                bytes[0] = 0;
                bytes[17] %= 24;
                let command_at = 18 + usize::from(bytes[17]);
                if let Some(command) = bytes.get_mut(command_at) {
                    *command %= 4;
                }
            }
            bytes
        })
}

/// Random bytes, half of them with a metadata length under the limit.
fn frame_like_bytes() -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::collection::vec(any::<u8>(), 0..600),
        any::<bool>(),
    )
        .prop_map(|(mut bytes, nudge)| {
            if nudge && bytes.len() > 6 {
                bytes[0] = 0;
                bytes[1] %= 48;
                bytes[4] %= 5;
            }
            bytes
        })
}

fn encoded_request(req: &Request) -> Vec<u8> {
    let mut out = Vec::new();
    encode_request(req, &mut out);
    out
}

proptest! {
    #[test]
    fn a_request_survives_encoding_and_decoding(req in request(), tail in proptest::collection::vec(any::<u8>(), 0..8)) {
        let mut bytes = encoded_request(&req);
        let len = bytes.len();
        bytes.extend_from_slice(&tail);
        prop_assert_eq!(decode_request(&bytes), Ok(Parse::Done { value: req, consumed: len }));
    }

    #[test]
    fn every_strict_prefix_of_a_request_needs_more(req in request()) {
        let bytes = encoded_request(&req);
        for end in 0..bytes.len() {
            prop_assert_eq!(decode_request(&bytes[..end]), Ok(Parse::NeedMore));
        }
    }

    #[test]
    fn arbitrary_bytes_never_crash_the_request_decoder(bytes in request_like_bytes()) {
        if let Ok(Parse::Done { value: _, consumed: used }) = decode_request(&bytes) {
            prop_assert!(used <= bytes.len());
        }
    }

    #[test]
    fn a_corrupted_request_never_crashes_the_decoder(req in request(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut bytes = encoded_request(&req);
        let i = at.index(bytes.len());
        bytes[i] = byte;
        let _ = decode_request(&bytes);
    }

    #[test]
    fn a_response_decodes_to_its_length(tail in proptest::collection::vec(any::<u8>(), 0..8)) {
        let mut bytes = Vec::new();
        encode_response(&mut bytes);
        bytes.extend_from_slice(&tail);
        prop_assert_eq!(decode_response(&bytes), Ok(Parse::Done { value: (), consumed: 2 }));
        prop_assert_eq!(decode_response(&bytes[..1]), Ok(Parse::NeedMore));
    }

    #[test]
    fn arbitrary_bytes_never_crash_the_response_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(Parse::Done { value: (), consumed: used }) = decode_response(&bytes) {
            prop_assert!(used <= bytes.len() && used == 2 + usize::from(bytes[1]));
        }
    }

    #[test]
    fn a_datagram_survives_framing(payload in proptest::collection::vec(any::<u8>(), 0..2000), tail in proptest::collection::vec(any::<u8>(), 0..8)) {
        let mut bytes = Vec::new();
        udp::encode_packet(&payload, &mut bytes).unwrap();
        let len = bytes.len();
        for end in 0..len {
            prop_assert_eq!(udp::decode_packet(&bytes[..end]), Parse::NeedMore);
        }
        bytes.extend_from_slice(&tail);
        prop_assert_eq!(udp::decode_packet(&bytes), Parse::Done { value: &payload[..], consumed: len });
    }

    #[test]
    fn arbitrary_bytes_never_crash_the_datagram_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Parse::Done { value: payload, consumed: used } = udp::decode_packet(&bytes) {
            prop_assert_eq!(used, payload.len() + 2);
        }
    }

    #[test]
    fn a_mux_frame_survives_encoding_and_decoding((session_id, status, error, data) in frame_parts(), tail in proptest::collection::vec(any::<u8>(), 0..8)) {
        let frame = Frame { session_id, status, error, data: data.as_deref() };
        let mut bytes = Vec::new();
        mux::encode_frame(&frame, &mut bytes).unwrap();
        let len = bytes.len();
        for end in 0..len {
            prop_assert_eq!(mux::decode_frame(&bytes[..end]), Ok(Parse::NeedMore));
        }
        bytes.extend_from_slice(&tail);
        prop_assert_eq!(mux::decode_frame(&bytes), Ok(Parse::Done { value: frame, consumed: len }));
    }

    #[test]
    fn arbitrary_bytes_never_crash_the_mux_decoder(bytes in frame_like_bytes()) {
        if let Ok(Parse::Done { value: _, consumed: used }) = mux::decode_frame(&bytes) {
            prop_assert!(used <= bytes.len());
        }
    }
}
