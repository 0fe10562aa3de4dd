//! Runs the `vless_xudp` fuzz target's checks (`fuzz/checks/vless_xudp.rs`) on stable Rust,
//! over the committed corpus (`fuzz/corpus/vless_xudp/`) and generated Mux streams of XUDP
//! frames (new with a global id, keep with a peer, end, keep-alive), cut or with a byte changed.

use std::net::Ipv4Addr;

use proptest::prelude::*;
use vless::mux::{encode_frame, Frame, GlobalId, Network, Status, Target};
use vless::{Address, Destination};

#[path = "../../../fuzz/checks/vless_xudp.rs"]
mod checks;

#[path = "../../../fuzz/checks/corpus.rs"]
mod corpus;

#[test]
fn the_vless_xudp_checks_hold_on_the_committed_corpus() {
    for (name, bytes) in corpus::corpus("vless_xudp") {
        println!("{name}");
        checks::run(&bytes);
    }
}

fn frame() -> impl Strategy<Value = Vec<u8>> {
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

fn stream() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<u8>(),
        proptest::collection::vec(frame(), 0..5),
        any::<prop::sample::Index>(),
        any::<u8>(),
        0u8..3,
    )
        .prop_map(|(piece, frames, at, byte, edit)| {
            let mut bytes = vec![piece];
            bytes.extend(frames.concat());
            let i = at.index(bytes.len());
            match edit {
                0 => bytes.truncate(i.max(1)),
                1 if i > 0 => bytes[i] = byte,
                _ => {}
            }
            bytes
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_xudp_fuzz_checks_hold_on_stable(input in prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..300),
        stream(),
    ]) {
        checks::run(&input);
    }
}
