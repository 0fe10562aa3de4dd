//! A REALITY client and server engine talking in memory: every suite, the rejections, the
//! dest-shaped records and the hand-over of undecrypted bytes.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, SystemTime};

use reality::{
    parse_short_id, Authenticated, CipherSuite, ClientConfig, ClientHandshake, ClientHello,
    DestProfile, Mldsa65SigningKey, Parse, RealityCert, Received, RecordLayer, Reject,
    ReplayFilter, ServerHandshake, ServerOptions, SystemRng, TlsError, X25519, X25519_MLKEM768,
};
use x25519_dalek::{PublicKey, StaticSecret};

mod support;

use support::{answer, answer_with, client_config, hello_from, server_config};

/// A client handshake for `config` that has sent its hello, the hello, and what the server made
/// of it.
fn authenticated_hello(config: &ClientConfig) -> (ClientHandshake, ClientHello, Authenticated) {
    let now = SystemTime::now();
    let mut client = ClientHandshake::new(config, now, &mut SystemRng).unwrap();
    let (hello, _) = hello_from(&mut client);
    let auth = server_config().authenticate(&hello, now).unwrap();
    assert_eq!(auth.auth_key, client.auth_key());
    (client, hello, auth)
}

/// Runs the handshake to the end; returns both record layers.
fn connect(
    client_config: &ClientConfig,
    options: &ServerOptions,
    profile: Option<&DestProfile>,
) -> (RecordLayer, RecordLayer, Vec<u8>) {
    let (mut client, hello, auth) = authenticated_hello(client_config);
    assert_eq!(auth.client_version, [25, 10, 1]);
    let cert = RealityCert::generate(&mut SystemRng);
    let mut server = ServerHandshake::new(
        &hello,
        &auth.auth_key,
        &cert,
        options,
        profile,
        &mut SystemRng,
    )
    .unwrap();
    let flight = server.poll_output();
    assert!(
        client.feed(&flight).unwrap(),
        "client completes on the server's flight"
    );
    assert_eq!(client.suite(), Some(server.suite()));
    assert!(
        server.feed(&client.poll_output()).unwrap(),
        "server completes on the client's Finished"
    );
    (
        client.into_record_layer().unwrap(),
        server.into_record_layer().unwrap(),
        flight,
    )
}

fn read_all(layer: &mut RecordLayer, wire: &[u8]) -> Vec<u8> {
    layer.feed(wire);
    let mut out = Vec::new();
    loop {
        match layer.read(&mut out).unwrap() {
            Received::NeedMore | Received::Closed => return out,
            Received::Data(_) | Received::Other => {}
        }
    }
}

#[test]
fn client_and_server_exchange_data_in_every_suite_and_group() {
    for suite in CipherSuite::ALL {
        for (post_quantum, groups) in [
            (true, vec![X25519_MLKEM768, X25519]),
            (true, vec![X25519]),
            (false, vec![X25519_MLKEM768, X25519]),
        ] {
            let options = ServerOptions {
                suites: vec![suite],
                groups,
                ..ServerOptions::default()
            };
            let config = ClientConfig {
                post_quantum,
                ..client_config()
            };
            let (mut client, mut server, flight) = connect(&config, &options, None);
            let hybrid = post_quantum && options.groups[0] == X25519_MLKEM768;
            let server_hello_len = 5 + usize::from(u16::from_be_bytes([flight[3], flight[4]]));
            assert_eq!(
                server_hello_len > 1000,
                hybrid,
                "{suite:?}: hybrid share in the ServerHello"
            );
            let up: Vec<u8> = (0..50_000u32).map(|i| (i * 7) as u8).collect();
            let mut wire = Vec::new();
            client.write(&up, &mut wire).unwrap();
            assert_eq!(read_all(&mut server, &wire), up, "{suite:?} upstream");
            let mut wire = Vec::new();
            server.write(b"pong", &mut wire).unwrap();
            server.write_close_notify(&mut wire).unwrap();
            assert_eq!(
                read_all(&mut client, &wire),
                b"pong",
                "{suite:?} downstream"
            );
            assert_eq!(client.read(&mut Vec::new()).unwrap(), Received::Closed);
        }
    }
}

#[test]
fn data_the_client_sends_with_its_finished_reaches_the_record_layer() {
    let (mut client, hello, auth) = authenticated_hello(&client_config());
    let mut server = answer(&hello, &auth.auth_key);
    client.feed(&server.poll_output()).unwrap();
    let mut second_flight = client.poll_output();
    let mut client_layer = client.into_record_layer().unwrap();
    client_layer
        .write(b"early request", &mut second_flight)
        .unwrap();
    assert!(server.feed(&second_flight).unwrap());
    let mut server_layer = server.into_record_layer().unwrap();
    assert_eq!(read_all(&mut server_layer, &[]), b"early request");
}

#[test]
fn the_record_layer_hands_back_the_raw_bytes_after_the_last_record_it_read() {
    let (mut client, mut server, _) = connect(&client_config(), &ServerOptions::default(), None);
    let mut wire = Vec::new();
    client.write(b"last padded frame", &mut wire).unwrap();
    let raw = b"\x17\x03\x03\x00\x05inner record, not outer TLS".to_vec();
    wire.extend_from_slice(&raw);
    server.feed(&wire);
    let mut out = Vec::new();
    assert_eq!(server.read(&mut out).unwrap(), Received::Data(17));
    assert_eq!(server.take_buffered(), raw);
}

fn hello_with(client_config: &ClientConfig, at: SystemTime) -> ClientHello {
    let mut client = ClientHandshake::new(client_config, at, &mut SystemRng).unwrap();
    hello_from(&mut client).0
}

#[test]
fn a_stale_or_future_timestamp_is_rejected() {
    let now = SystemTime::now();
    for skew in [
        now - Duration::from_secs(120),
        now + Duration::from_secs(120),
    ] {
        let hello = hello_with(&client_config(), skew);
        assert_eq!(
            server_config().authenticate(&hello, now),
            Err(Reject::TimeDifference)
        );
    }
    let mut lenient = server_config();
    lenient.max_time_diff = None;
    let hello = hello_with(&client_config(), now - Duration::from_secs(86_400));
    assert!(lenient.authenticate(&hello, now).is_ok());
}

/// What the server makes of a hello from `config` sent now.
fn verdict(config: &ClientConfig) -> Result<Authenticated, Reject> {
    let hello = hello_with(config, SystemTime::now());
    server_config().authenticate(&hello, SystemTime::now())
}

#[test]
fn a_wrong_short_id_server_name_or_server_key_is_rejected() {
    let wrong = [
        (
            ClientConfig {
                short_id: parse_short_id("ffff").unwrap(),
                ..client_config()
            },
            Reject::UnknownShortId,
        ),
        (
            ClientConfig {
                server_name: "other.example.com".into(),
                ..client_config()
            },
            Reject::ServerNameNotAllowed,
        ),
        (
            ClientConfig {
                public_key: PublicKey::from(&StaticSecret::from([7; 32])).to_bytes(),
                ..client_config()
            },
            Reject::BadSessionId,
        ),
    ];
    for (config, reject) in wrong {
        assert_eq!(verdict(&config), Err(reject));
    }
}

#[test]
fn an_empty_short_id_is_allowed_when_configured() {
    let config = ClientConfig {
        short_id: [0; 8],
        ..client_config()
    };
    assert!(verdict(&config).is_ok());
}

#[test]
fn any_tampered_byte_of_the_hello_is_rejected() {
    let mut client =
        ClientHandshake::new(&client_config(), SystemTime::now(), &mut SystemRng).unwrap();
    let (_, bytes) = hello_from(&mut client);
    let mut rejected = 0;
    // Session id bytes, and bytes elsewhere that the AAD covers.
    for pos in [5 + 39, 5 + 50, 5 + 70, 5 + 100, bytes.len() - 1] {
        let mut tampered = bytes.clone();
        tampered[pos] ^= 0x01;
        if let Ok(Parse::Done { value, .. }) = ClientHello::read(&tampered) {
            assert!(
                server_config()
                    .authenticate(&value, SystemTime::now())
                    .is_err(),
                "byte {pos}"
            );
            rejected += 1;
        }
    }
    assert!(rejected >= 4);
}

#[test]
fn a_replayed_hello_is_caught_by_the_filter() {
    let hello = hello_with(&client_config(), SystemTime::now());
    let mut filter = ReplayFilter::new(1024);
    let first = server_config()
        .authenticate(&hello, SystemTime::now())
        .unwrap();
    assert!(filter.check_and_insert(first.replay_key));
    let again = server_config()
        .authenticate(&hello, SystemTime::now())
        .unwrap();
    assert!(!filter.check_and_insert(again.replay_key));
}

/// A dest-like first flight for this hello: its ServerHello (a real TLS 1.3 one from our
/// engine stands in for dest) and the given encrypted record lengths.
fn dest_profile(hello: &ClientHello, lens: &[usize], group: u16) -> DestProfile {
    let cert = RealityCert::generate(&mut SystemRng);
    let options = ServerOptions {
        suites: vec![CipherSuite::Aes256GcmSha384],
        groups: vec![group],
        ..ServerOptions::default()
    };
    let mut dest =
        ServerHandshake::new(hello, &[0; 32], &cert, &options, None, &mut SystemRng).unwrap();
    let flight = dest.poll_output();
    let sh_len = 5 + usize::from(u16::from_be_bytes([flight[3], flight[4]]));
    let mut bytes = flight[..sh_len + 6].to_vec();
    for &len in lens {
        bytes.extend_from_slice(&[23, 3, 3]);
        bytes.extend_from_slice(&((len - 5) as u16).to_be_bytes());
        bytes.resize(bytes.len() + len - 5, 0x5a);
    }
    let Parse::Done { value, .. } = DestProfile::learn(&bytes).unwrap() else {
        panic!()
    };
    value
}

fn record_lens(flight: &[u8]) -> Vec<(u8, usize)> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < flight.len() {
        let len = 5 + usize::from(u16::from_be_bytes([flight[pos + 3], flight[pos + 4]]));
        out.push((flight[pos], len));
        pos += len;
    }
    out
}

#[test]
fn the_server_flight_copies_dests_server_hello_and_record_lengths() {
    for (lens, group) in [
        (vec![46, 2900, 111, 74], X25519),
        (vec![4100], X25519),
        (vec![46, 2900, 111, 74], X25519_MLKEM768),
    ] {
        let (mut client, hello, auth) = authenticated_hello(&client_config());
        let profile = dest_profile(&hello, &lens, group);
        let cert = RealityCert::generate(&mut SystemRng);
        let mut server = ServerHandshake::new(
            &hello,
            &auth.auth_key,
            &cert,
            &ServerOptions::default(),
            Some(&profile),
            &mut SystemRng,
        )
        .unwrap();
        assert_eq!(server.suite(), CipherSuite::Aes256GcmSha384, "dest's suite");
        let flight = server.poll_output();
        let records = record_lens(&flight);
        // The ServerHello is dest's except for the key share.
        let ours = &flight[5..records[0].1];
        let differing = ours
            .iter()
            .zip(&profile.server_hello)
            .filter(|(a, b)| a != b)
            .count();
        assert_eq!(ours.len(), profile.server_hello.len());
        let share_len = if group == X25519 { 32 } else { 1120 };
        assert!(
            differing <= share_len && differing > share_len / 2,
            "{differing} bytes differ"
        );
        assert_eq!(records[1], (20, 6));
        let encrypted: Vec<usize> = records[2..].iter().map(|r| r.1).collect();
        assert_eq!(encrypted, lens);
        assert!(client.feed(&flight).unwrap());
        assert!(server.feed(&client.poll_output()).unwrap());
    }
}

mod garbage {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn handshakes_fed_garbage_fail_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let (mut client, hello, auth) = authenticated_hello(&client_config());
            let mut server = answer(&hello, &auth.auth_key);
            let _ = server.feed(&bytes);
            let _ = client.feed(&bytes);
            // The same garbage as a well-framed encrypted record never authenticates.
            let mut server = answer(&hello, &auth.auth_key);
            let mut framed = vec![23, 3, 3, (bytes.len() >> 8) as u8, bytes.len() as u8];
            framed.extend_from_slice(&bytes);
            prop_assert!(server.feed(&framed).is_err());
            let _ = client.feed(&framed);
        }

        #[test]
        fn dest_profiles_from_garbage_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = DestProfile::learn(&bytes);
        }
    }
}

/// The client's verdict on the server's flight when the server signs with `server_seed` and
/// the client expects the public key of `client_seed`.
fn mldsa65_verdict(server_seed: Option<[u8; 32]>, client_seed: [u8; 32]) -> Result<bool, TlsError> {
    let config = ClientConfig {
        mldsa65_verify: Some(Mldsa65SigningKey::from_seed(&client_seed).public_key()),
        ..client_config()
    };
    let (mut client, hello, auth) = authenticated_hello(&config);
    let cert = match server_seed {
        Some(seed) => {
            RealityCert::generate_with_mldsa65(&mut SystemRng, Mldsa65SigningKey::from_seed(&seed))
        }
        None => RealityCert::generate(&mut SystemRng),
    };
    let mut server = answer_with(&hello, &auth.auth_key, &cert);
    let verdict = client.feed(&server.poll_output());
    if verdict == Ok(true) {
        assert!(server.feed(&client.poll_output()).unwrap());
    }
    verdict
}

#[test]
fn a_client_with_the_servers_mldsa65_key_completes_the_handshake() {
    assert_eq!(mldsa65_verdict(Some([5; 32]), [5; 32]), Ok(true));
}

#[test]
fn a_client_with_another_mldsa65_key_or_facing_an_unsigned_certificate_refuses() {
    assert_eq!(
        mldsa65_verdict(Some([5; 32]), [6; 32]),
        Err(TlsError::BadMldsa65Signature)
    );
    assert_eq!(
        mldsa65_verdict(None, [5; 32]),
        Err(TlsError::BadMldsa65Signature)
    );
}

#[test]
fn a_client_without_an_mldsa65_key_accepts_a_signed_certificate() {
    let cert =
        RealityCert::generate_with_mldsa65(&mut SystemRng, Mldsa65SigningKey::from_seed(&[5; 32]));
    let (mut client, hello, auth) = authenticated_hello(&client_config());
    let mut server = answer_with(&hello, &auth.auth_key, &cert);
    assert_eq!(client.feed(&server.poll_output()), Ok(true));
}
