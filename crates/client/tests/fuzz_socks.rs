//! Runs the `client_socks` fuzz target's checks (`fuzz/checks/client_socks.rs`) on stable
//! Rust, over the committed corpus (`fuzz/corpus/client_socks/`, curl's requests) and generated
//! greetings and requests, cut or with a byte changed.

use proptest::prelude::*;

#[path = "../../../fuzz/checks/client_socks.rs"]
mod checks;

#[path = "../../../fuzz/checks/corpus.rs"]
mod corpus;

#[test]
fn the_client_socks_checks_hold_on_the_committed_corpus() {
    for (name, bytes) in corpus::corpus("client_socks") {
        println!("{name}");
        checks::run(&bytes);
    }
}

fn request_like() -> impl Strategy<Value = Vec<u8>> {
    let address = prop_oneof![
        any::<[u8; 4]>().prop_map(|ip| [&[1][..], &ip].concat()),
        any::<[u8; 16]>().prop_map(|ip| [&[4][..], &ip].concat()),
        "[a-z0-9.:_-]{0,20}".prop_map(|d| [&[3, d.len() as u8][..], d.as_bytes()].concat()),
    ];
    (
        any::<u8>(),
        proptest::collection::vec(0u8..4, 0..4),
        0u8..4,
        address,
        any::<u16>(),
        any::<prop::sample::Index>(),
        any::<u8>(),
        0u8..3,
    )
        .prop_map(|(piece, methods, command, address, port, at, byte, edit)| {
            let mut bytes = vec![piece, 5, methods.len() as u8];
            bytes.extend_from_slice(&methods);
            bytes.extend_from_slice(&[5, command, 0]);
            bytes.extend_from_slice(&address);
            bytes.extend_from_slice(&port.to_be_bytes());
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
    fn the_socks_fuzz_checks_hold_on_stable(input in prop_oneof![
        request_like(),
        proptest::collection::vec(any::<u8>(), 0..100),
    ]) {
        checks::run(&input);
    }
}
