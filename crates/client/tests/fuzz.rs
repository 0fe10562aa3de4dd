//! Runs the client fuzz targets' checks (`fuzz/checks/client_*.rs`) on stable Rust, over each
//! committed corpus (`fuzz/corpus/client_link/`, `fuzz/corpus/client_socks/`: curl's requests)
//! and generated inputs: links assembled from likely pieces, milly's with a byte changed, cut or
//! a dangling escape put in, SOCKS5 greetings and requests whole, cut or with a byte changed,
//! and random bytes.

use proptest::prelude::*;

#[path = "../../../fuzz/checks/harness.rs"]
mod harness;

#[path = "../../../fuzz/checks/client_link.rs"]
mod link;
#[path = "../../../fuzz/checks/client_socks.rs"]
mod socks;

#[test]
fn every_targets_checks_hold_on_its_committed_corpus() {
    for target in targets() {
        target.holds_on_corpus();
    }
}

/// A `vless://` link assembled from likely pieces.
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
            "path",
            "host",
            "mode",
            "serviceName",
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
                "xhttp",
                "grpc",
                "auto",
                "gun",
                "stream-one",
                "%2Fs%2Fxh",
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

/// A cut position, then a SOCKS5 greeting and request built from random parts.
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
    )
        .prop_map(|(piece, methods, command, address, port)| {
            let mut bytes = vec![piece, 5, methods.len() as u8];
            bytes.extend_from_slice(&methods);
            bytes.extend_from_slice(&[5, command, 0]);
            bytes.extend_from_slice(&address);
            bytes.extend_from_slice(&port.to_be_bytes());
            bytes
        })
}

/// Each target, with the inputs generated for it.
fn targets() -> [harness::Target; 2] {
    let links = prop_oneof![
        assembled().prop_map(String::into_bytes),
        harness::edited_inserting(
            harness::corpus_file("client_link"),
            Just(b"&sid=%".to_vec())
        ),
        harness::any_bytes(200),
    ];
    [
        harness::Target::new("client_link", link::run).generating(2000, links),
        harness::Target::new("client_socks", socks::run)
            .generating(2000, harness::whole_edited_or_random(request_like(), 100)),
    ]
}

#[test]
fn every_targets_checks_hold_on_generated_inputs() {
    for target in targets() {
        target.holds_on_generated();
    }
}
