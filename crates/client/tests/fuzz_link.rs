//! Runs the `client_link` fuzz target's checks (`fuzz/checks/client_link.rs`) on stable Rust,
//! over the committed corpus (`fuzz/corpus/client_link/`) and generated links: milly's with a
//! parameter added, changed or cut, and links assembled from likely pieces.

use proptest::prelude::*;

#[path = "../../../fuzz/checks/client_link.rs"]
mod checks;

#[path = "../../../fuzz/checks/corpus.rs"]
mod corpus;

#[test]
fn the_client_link_checks_hold_on_the_committed_corpus() {
    for (name, bytes) in corpus::corpus("client_link") {
        println!("{name}");
        checks::run(&bytes);
    }
}

fn assembled() -> impl Strategy<Value = String> {
    let host = prop_oneof![
        Just("vpn.example.com".to_owned()),
        Just("[2001:db8::1]".to_owned()),
        "[a-z0-9.:\\[\\]%@-]{0,12}",
    ];
    let param = (
        prop::sample::select(vec![
            "security",
            "sni",
            "pbk",
            "sid",
            "pqv",
            "fp",
            "flow",
            "type",
            "encryption",
            "allowInsecure",
            "x",
        ]),
        prop_oneof![
            prop::sample::select(vec![
                "tls",
                "reality",
                "none",
                "tcp",
                "raw",
                "ws",
                "xtls-rprx-vision",
                "1",
                "0",
                "true",
                "abcd",
                "chrome",
                "",
            ])
            .prop_map(str::to_owned),
            "[a-zA-Z0-9%=&#?/]{0,10}",
        ],
    );
    (
        host,
        "[0-9]{0,6}",
        proptest::collection::vec(param, 0..8),
        "[a-z %#]{0,8}",
    )
        .prop_map(|(host, port, params, name)| {
            let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!(
                "vless://b831381d-6324-4d53-ad4f-8cda48b30811@{host}:{port}?{}#{name}",
                query.join("&")
            )
        })
}

fn edited() -> impl Strategy<Value = Vec<u8>> {
    let files: Vec<Vec<u8>> = corpus::corpus("client_link")
        .into_iter()
        .map(|(_, b)| b)
        .collect();
    (
        proptest::sample::select(files),
        any::<prop::sample::Index>(),
        any::<u8>(),
        0u8..3,
    )
        .prop_map(|(mut bytes, at, byte, edit)| {
            let i = at.index(bytes.len());
            match edit {
                0 => bytes.truncate(i),
                1 => bytes[i] = byte,
                _ => bytes.splice(i..i, *b"&sid=%").for_each(drop),
            }
            bytes
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_link_fuzz_checks_hold_on_stable(input in prop_oneof![
        assembled().prop_map(String::into_bytes),
        edited(),
        proptest::collection::vec(any::<u8>(), 0..200),
    ]) {
        checks::run(&input);
    }
}
