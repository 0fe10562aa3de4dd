//! Runs the `vless_mux` fuzz target's checks (`fuzz/checks/vless_mux.rs`) on stable Rust, over the
//! committed corpus (`fuzz/corpus/vless_mux/`) and a few thousand generated inputs: frames built
//! from random parts, then cut, extended or with a byte changed.

use proptest::prelude::*;

#[path = "../../../fuzz/checks/vless_mux.rs"]
mod checks;

#[path = "../../../fuzz/checks/corpus.rs"]
mod corpus;

#[test]
fn the_vless_mux_checks_hold_on_the_committed_corpus() {
    for (name, bytes) in corpus::corpus("vless_mux") {
        println!("{name}");
        checks::run(&bytes);
    }
}

/// A frame built from random parts: metadata (session, status, option, network, port-first
/// address, maybe a global id or padding) and maybe data.
fn frame_like() -> impl Strategy<Value = Vec<u8>> {
    let address = prop_oneof![
        any::<[u8; 4]>().prop_map(|ip| [&[1][..], &ip].concat()),
        any::<[u8; 16]>().prop_map(|ip| [&[3][..], &ip].concat()),
        "[a-z0-9.-]{0,12}".prop_map(|d| [&[2, d.len() as u8][..], d.as_bytes()].concat()),
    ];
    let extra = proptest::collection::vec(any::<u8>(), 0..10);
    let data = proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40));
    (
        any::<u16>(),
        0u8..6,
        0u8..4,
        0u8..4,
        any::<u16>(),
        address,
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

fn fuzz_input() -> impl Strategy<Value = Vec<u8>> {
    let edited = (
        frame_like(),
        any::<prop::sample::Index>(),
        any::<u8>(),
        0u8..3,
    )
        .prop_map(|(mut bytes, at, byte, edit)| {
            let i = at.index(bytes.len());
            match edit {
                0 => bytes.truncate(i),
                1 => bytes.extend_from_slice(&[byte; 3]),
                _ => bytes[i] = byte,
            }
            bytes
        });
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..300),
        frame_like(),
        edited
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn the_mux_fuzz_checks_hold_on_stable(input in fuzz_input()) {
        checks::run(&input);
    }
}
