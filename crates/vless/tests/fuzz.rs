//! Runs the vless fuzz targets' checks (`fuzz/checks/vless_*.rs`) on stable Rust, over each
//! committed corpus (`fuzz/corpus/vless_*/`) and a few thousand generated inputs per target:
//! random bytes, and frames, headers and streams built from random parts, whole or after one
//! edit (cut, a byte changed, bytes put in).

use std::net::Ipv4Addr;

use harness::whole_edited_or_random;
use proptest::prelude::*;
use vless::mux::{encode_frame, Frame, GlobalId, Network, Status, Target};
use vless::{Address, Destination};

#[path = "../../../fuzz/checks/harness.rs"]
mod harness;

#[path = "../../../fuzz/checks/vless_mux.rs"]
mod mux;
#[path = "../../../fuzz/checks/vless_request.rs"]
mod request;
#[path = "../../../fuzz/checks/vless_udp.rs"]
mod udp;
#[path = "../../../fuzz/checks/vless_vision.rs"]
mod vision;
#[path = "../../../fuzz/checks/vless_xudp.rs"]
mod xudp;

#[test]
fn every_targets_checks_hold_on_its_committed_corpus() {
    for target in targets() {
        target.holds_on_corpus();
    }
}

/// An address as VLESS and Mux.Cool write it: IPv4, IPv6 or a domain with its length.
fn address(domain: &'static str) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|ip| [&[1][..], &ip].concat()),
        any::<[u8; 16]>().prop_map(|ip| [&[3][..], &ip].concat()),
        domain.prop_map(|d| [&[2, d.len() as u8][..], d.as_bytes()].concat()),
    ]
}

/// A Mux.Cool frame built from random parts: metadata (session, status, option, network,
/// port-first address, maybe a global id or padding) and maybe data.
fn frame_like() -> impl Strategy<Value = Vec<u8>> {
    let extra = proptest::collection::vec(any::<u8>(), 0..10);
    let data = proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40));
    (
        any::<u16>(),
        0u8..6,
        0u8..4,
        0u8..4,
        any::<u16>(),
        address("[a-z0-9.-]{0,12}"),
        extra,
        data,
    )
        .prop_map(
            |(session, status, option, network, port, address, extra, data)| {
                let mut metadata = session.to_be_bytes().to_vec();
                metadata.extend_from_slice(&[status, option | u8::from(data.is_some()), network]);
                metadata.extend_from_slice(&port.to_be_bytes());
                metadata.extend_from_slice(&address);
                metadata.extend_from_slice(&extra);
                let mut bytes = (metadata.len() as u16).to_be_bytes().to_vec();
                bytes.extend_from_slice(&metadata);
                if let Some(data) = data {
                    bytes.extend_from_slice(&(data.len() as u16).to_be_bytes());
                    bytes.extend_from_slice(&data);
                }
                bytes
            },
        )
}

/// A VLESS request header built from random parts, valid or nearly so.
fn header_like() -> impl Strategy<Value = Vec<u8>> {
    let addons = prop_oneof![
        Just(Vec::new()),
        Just([&[0x0a, 16][..], b"xtls-rprx-vision"].concat()),
        Just(vec![0x0a, 0, 0x12, 2, 7, 7]),
        proptest::collection::vec(any::<u8>(), 0..12),
    ];
    let address = address("[a-z0-9.:\\[\\]-]{0,20}");
    (any::<[u8; 16]>(), addons, 0u8..5, any::<u16>(), address).prop_map(
        |(id, addons, command, port, address)| {
            let mut bytes = vec![0];
            bytes.extend_from_slice(&id);
            bytes.push(addons.len() as u8);
            bytes.extend_from_slice(&addons);
            bytes.push(command);
            bytes.extend_from_slice(&port.to_be_bytes());
            bytes.extend_from_slice(&address);
            bytes
        },
    )
}

/// A stream of length-prefixed UDP datagrams.
fn datagrams() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..80), 0..6).prop_map(
        |datagrams| {
            let mut bytes = Vec::new();
            for d in &datagrams {
                vless::udp::encode_packet(d, &mut bytes).expect("under 64 KiB");
            }
            bytes
        },
    )
}

/// A cut position, the user id, then Vision padding frames with random commands and lengths
/// that may or may not match what follows.
fn padding_frames() -> impl Strategy<Value = Vec<u8>> {
    let frame = (
        0u8..4,
        0u16..40,
        0u16..40,
        proptest::collection::vec(any::<u8>(), 0..60),
    )
        .prop_map(|(command, content, padding, body)| {
            let mut bytes = vec![command];
            bytes.extend_from_slice(&content.to_be_bytes());
            bytes.extend_from_slice(&padding.to_be_bytes());
            bytes.extend_from_slice(&body);
            bytes
        });
    (any::<u8>(), proptest::collection::vec(frame, 0..6)).prop_map(|(cut, frames)| {
        let mut bytes = vec![cut];
        bytes.extend_from_slice(&vision::USER);
        bytes.extend_from_slice(&frames.concat());
        bytes
    })
}

/// One XUDP frame: new with a global id, keep with a peer, end, or keep-alive.
fn xudp_frame() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<u16>(),
        0u8..4,
        any::<[u8; 4]>(),
        any::<u16>(),
        any::<[u8; 8]>(),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40)),
    )
        .prop_map(|(session_id, status, ip, port, id, data)| {
            let peer = Destination {
                address: Address::Ipv4(Ipv4Addr::from(ip)),
                port,
            };
            let status = match status {
                0 => Status::New {
                    target: Target {
                        network: Network::Udp,
                        destination: peer,
                    },
                    global_id: (id != [0; 8] && data.is_some()).then_some(GlobalId(id)),
                },
                1 => Status::Keep {
                    udp_peer: Some(peer),
                },
                2 => Status::End,
                _ => Status::KeepAlive,
            };
            let frame = Frame {
                session_id,
                status,
                error: false,
                data: data.as_deref(),
            };
            let mut out = Vec::new();
            encode_frame(&frame, &mut out).expect("small data");
            out
        })
}

/// A cut position, then a Mux stream of XUDP frames.
fn xudp_stream() -> impl Strategy<Value = Vec<u8>> {
    (any::<u8>(), proptest::collection::vec(xudp_frame(), 0..5)).prop_map(|(piece, frames)| {
        let mut bytes = vec![piece];
        bytes.extend(frames.concat());
        bytes
    })
}

/// Each target, with the inputs generated for it.
fn targets() -> [harness::Target; 5] {
    [
        harness::Target::new("vless_mux", mux::run)
            .generating(4000, whole_edited_or_random(frame_like(), 300)),
        harness::Target::new("vless_request", request::run)
            .generating(4000, whole_edited_or_random(header_like(), 300)),
        harness::Target::new("vless_udp", udp::run)
            .generating(2000, whole_edited_or_random(datagrams(), 300)),
        harness::Target::new("vless_vision", vision::run)
            .generating(4000, prop_oneof![padding_frames(), harness::any_bytes(300)]),
        harness::Target::new("vless_xudp", xudp::run)
            .generating(2000, whole_edited_or_random(xudp_stream(), 300)),
    ]
}

#[test]
fn every_targets_checks_hold_on_generated_inputs() {
    for target in targets() {
        target.holds_on_generated();
    }
}
