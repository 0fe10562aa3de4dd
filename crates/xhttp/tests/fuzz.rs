//! Runs the xhttp fuzz targets' checks (`fuzz/checks/xhttp_*.rs`) on stable Rust, over each
//! committed corpus (`fuzz/corpus/xhttp_*/`) and generated inputs: requests assembled from the
//! pieces Xray's clients send (method, path with session and seq, padding in the Referer or the
//! query, id headers), runs of packets and reads, and streams of gun messages, whole or after
//! one edit (cut, a byte changed, bytes put in), and random bytes.

use harness::whole_edited_or_random;
use proptest::prelude::*;

#[path = "../../../fuzz/checks/harness.rs"]
mod harness;

#[path = "../../../fuzz/checks/xhttp_gun.rs"]
mod gun;
#[path = "../../../fuzz/checks/xhttp_request.rs"]
mod request;
#[path = "../../../fuzz/checks/xhttp_upload.rs"]
mod upload;

#[test]
fn every_targets_checks_hold_on_its_committed_corpus() {
    for target in targets() {
        target.holds_on_corpus();
    }
}

/// A request in the checks' text form, from the pieces Xray's clients send.
fn request_like() -> impl Strategy<Value = Vec<u8>> {
    let method = prop_oneof![
        Just("POST".to_owned()),
        Just("GET".to_owned()),
        Just("OPTIONS".to_owned()),
        Just("PUT".to_owned()),
        "[A-Z]{0,6}"
    ];
    let base = prop_oneof![
        Just("/xh/".to_owned()),
        Just("/xh".to_owned()),
        Just("/q".to_owned()),
        Just("/".to_owned()),
        "/[a-z/]{0,6}"
    ];
    let session = prop_oneof![
        Just("5f0b1c2d-3e4f-4a5b-8c6d-7e8f90a1b2c3".to_owned()),
        "[a-z0-9-]{0,140}",
    ];
    let seq = proptest::option::of(prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        "[0-9+-]{0,22}"
    ]);
    let padding = (0usize..1100, 0u8..3);
    let query = prop_oneof![
        Just(String::new()),
        "x_session=[a-z0-9%+-]{0,40}",
        "x_padding=X{0,30}&x=1"
    ];
    let header = prop_oneof![
        "X-Seq: [0-9]{0,5}",
        "Host: (cdn.example.com|CDN.EXAMPLE.COM:443|\\[::1\\]:1|a:b:c)",
        "Origin: [a-z:/.]{0,20}",
        "[A-Za-z-]{1,10}: [ -~]{0,20}"
    ];
    let headers = proptest::collection::vec(header, 0..3);
    (method, base, session, seq, padding, query, headers).prop_map(
        |(method, base, session, seq, (len, place), query, headers)| {
            let mut path = format!("{base}{session}");
            if let Some(seq) = seq {
                path = format!("{path}/{seq}");
            }
            let x = "X".repeat(len);
            let mut query = query;
            let mut lines = Vec::new();
            match place {
                0 => lines.push(format!("Referer: https://h.example{path}?x_padding={x}")),
                1 => query = format!("{query}&x_padding={x}"),
                _ => {}
            }
            lines.extend(headers);
            let mut text = format!("{method} {path}?{query}\n");
            for line in lines {
                text.push_str(&line);
                text.push('\n');
            }
            text.into_bytes()
        },
    )
}

/// Operations for the reorder buffer: packets near the next expected one, and reads.
fn upload_ops() -> impl Strategy<Value = Vec<u8>> {
    let op = prop_oneof![
        (0u8..12, any::<u8>()).prop_map(|(a, b)| vec![a, b]),
        (0u8..4, any::<u8>()).prop_map(|(a, b)| vec![0x40 | a, b]),
        Just(vec![0x80, 0]),
    ];
    proptest::collection::vec(op, 0..40).prop_map(|ops| ops.concat())
}

/// A stream of gun messages: hunks and multi-hunks of random data.
fn gun_stream() -> impl Strategy<Value = Vec<u8>> {
    let data = || proptest::collection::vec(any::<u8>(), 0..200);
    let message = prop_oneof![
        data().prop_map(|d| {
            let mut out = Vec::new();
            xhttp::gun::encode_hunk(&d, &mut out).expect("small");
            out
        }),
        proptest::collection::vec(data(), 0..4).prop_map(|parts| {
            let parts: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
            let mut out = Vec::new();
            xhttp::gun::encode_multi_hunk(&parts, &mut out).expect("small");
            out
        }),
    ];
    proptest::collection::vec(message, 0..4).prop_map(|m| m.concat())
}

/// Each target, with the inputs generated for it.
fn targets() -> [harness::Target; 3] {
    [
        harness::Target::new("xhttp_request", request::run)
            .generating(3000, whole_edited_or_random(request_like(), 300)),
        harness::Target::new("xhttp_upload", upload::run)
            .generating(3000, whole_edited_or_random(upload_ops(), 100)),
        harness::Target::new("xhttp_gun", gun::run)
            .generating(3000, whole_edited_or_random(gun_stream(), 400)),
    ]
}

#[test]
fn every_targets_checks_hold_on_generated_inputs() {
    for target in targets() {
        target.holds_on_generated();
    }
}
