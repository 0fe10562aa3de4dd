//! Runs the `vless_request` fuzz target's checks (`fuzz/checks/vless_request.rs`) on stable Rust,
//! over the committed corpus (`fuzz/corpus/vless_request/`) and a few thousand generated inputs:
//! random bytes, and valid headers that are cut, extended or have a byte changed.

use proptest::prelude::*;

#[path = "../../../fuzz/checks/vless_request.rs"]
mod checks;

#[path = "../../../fuzz/checks/corpus.rs"]
mod corpus;

#[test]
fn the_vless_request_checks_hold_on_the_committed_corpus() {
    for (name, bytes) in corpus::corpus("vless_request") {
        println!("{name}");
        checks::run(&bytes);
    }
}

/// A header built from random parts, valid or nearly so.
fn header_like() -> impl Strategy<Value = Vec<u8>> {
    let addons = prop_oneof![
        Just(Vec::new()),
        Just([&[0x0a, 16][..], b"xtls-rprx-vision"].concat()),
        Just(vec![0x0a, 0, 0x12, 2, 7, 7]),
        proptest::collection::vec(any::<u8>(), 0..12),
    ];
    let address = prop_oneof![
        any::<[u8; 4]>().prop_map(|ip| [&[1][..], &ip].concat()),
        any::<[u8; 16]>().prop_map(|ip| [&[3][..], &ip].concat()),
        "[a-z0-9.:\\[\\]-]{0,20}".prop_map(|d| [&[2, d.len() as u8][..], d.as_bytes()].concat()),
    ];
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

/// A header-like input after one random edit: truncation, an appended tail, or a changed byte.
fn fuzz_input() -> impl Strategy<Value = Vec<u8>> {
    let edited = (
        header_like(),
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
        header_like(),
        edited
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn the_request_fuzz_checks_hold_on_stable(input in fuzz_input()) {
        checks::run(&input);
    }
}
