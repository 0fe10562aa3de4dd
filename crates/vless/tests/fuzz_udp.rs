//! Runs the `vless_udp` fuzz target's checks (`fuzz/checks/vless_udp.rs`) on stable Rust, over
//! the committed corpus (`fuzz/corpus/vless_udp/`) and generated streams of datagrams, cut or
//! with a length changed.

use proptest::prelude::*;

#[path = "../../../fuzz/checks/vless_udp.rs"]
mod checks;

#[path = "../../../fuzz/checks/corpus.rs"]
mod corpus;

#[test]
fn the_vless_udp_checks_hold_on_the_committed_corpus() {
    for (name, bytes) in corpus::corpus("vless_udp") {
        println!("{name}");
        checks::run(&bytes);
    }
}

fn stream() -> impl Strategy<Value = Vec<u8>> {
    let datagrams = proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..80), 0..6);
    (datagrams, any::<prop::sample::Index>(), any::<u8>(), 0u8..3).prop_map(
        |(datagrams, at, byte, edit)| {
            let mut bytes = Vec::new();
            for d in &datagrams {
                vless::udp::encode_packet(d, &mut bytes).expect("under 64 KiB");
            }
            if !bytes.is_empty() {
                let i = at.index(bytes.len());
                match edit {
                    0 => bytes.truncate(i),
                    1 => bytes[i] = byte,
                    _ => {}
                }
            }
            bytes
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_udp_fuzz_checks_hold_on_stable(input in prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..300),
        stream(),
    ]) {
        checks::run(&input);
    }
}
