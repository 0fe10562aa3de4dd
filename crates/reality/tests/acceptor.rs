//! The node's acceptance flow in memory: a REALITY client, the acceptor, and a TLS 1.3
//! server engine standing in for `dest` (it answers the mirrored ClientHello).

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use reality::{
    parse_short_id, ClientConfig, ClientHandshake, ClientHello, Next, Parse, Received, Reject,
    RelayReason, ReplayFilter, SystemRng,
};

mod support;

use support::{acceptor, answer, client_config};

/// A client with short id `short_id` that has not sent its hello yet.
fn client(short_id: &str) -> ClientHandshake {
    let config = ClientConfig {
        short_id: parse_short_id(short_id).unwrap(),
        ..client_config()
    };
    ClientHandshake::new(&config, SystemTime::now(), &mut SystemRng).unwrap()
}

/// What `dest` answers to mirrored client bytes: a plain TLS 1.3 server's first flight.
fn dest_answer(mirrored: &[u8]) -> Vec<u8> {
    let Parse::Done { value, .. } = ClientHello::read(mirrored).unwrap() else {
        panic!()
    };
    answer(&value, &[0; 32]).poll_output()
}

#[test]
fn an_allowed_client_gets_our_handshake_shaped_by_dests_answer() {
    let mut acceptor = acceptor(None);
    let mut client = client("0123abcd");
    let hello = client.poll_output();
    assert!(acceptor.is_mirroring());
    // Arrives in two pieces; everything is mirrored to dest meanwhile.
    assert!(matches!(
        acceptor.client_bytes(&hello[..100], &mut SystemRng),
        Next::Continue
    ));
    assert!(matches!(
        acceptor.client_bytes(&hello[100..], &mut SystemRng),
        Next::Continue
    ));
    let dest = dest_answer(&hello);
    assert!(matches!(
        acceptor.dest_bytes(&dest[..50], &mut SystemRng),
        Next::Continue
    ));
    let Next::Accept {
        mut handshake,
        auth,
        client_pending,
    } = acceptor.dest_bytes(&dest[50..], &mut SystemRng)
    else {
        panic!("an allowed client was not accepted")
    };
    assert_eq!(auth.short_id, parse_short_id("0123abcd").unwrap());
    assert!(client_pending.is_empty());
    let flight = handshake.poll_output();
    assert_eq!(
        flight.len(),
        dest.len(),
        "our flight has dest's record lengths"
    );
    assert!(client.feed(&flight).unwrap());
    assert!(handshake.feed(&client.poll_output()).unwrap());
    let mut server_layer = handshake.into_record_layer().unwrap();
    let mut client_layer = client.into_record_layer().unwrap();
    let mut wire = Vec::new();
    client_layer.write(b"vless request", &mut wire).unwrap();
    server_layer.feed(&wire);
    let mut got = Vec::new();
    assert_eq!(server_layer.read(&mut got).unwrap(), Received::Data(13));
    assert_eq!(got, b"vless request");
}

#[test]
fn a_wrong_short_id_is_relayed_to_dest() {
    let mut acceptor = acceptor(None);
    let hello = client("ffff").poll_output();
    let Next::Relay {
        to_client,
        to_dest,
        why,
    } = acceptor.client_bytes(&hello, &mut SystemRng)
    else {
        panic!()
    };
    assert!(to_client.is_empty(), "dest has not answered yet");
    assert!(to_dest.is_empty(), "dest saw the whole hello");
    assert_eq!(why, RelayReason::Rejected(Reject::UnknownShortId));
}

#[test]
fn a_replayed_hello_is_relayed_to_dest() {
    let filter = Arc::new(Mutex::new(ReplayFilter::new(64)));
    let hello = client("0123abcd").poll_output();
    let mut first = acceptor(Some(filter.clone()));
    assert!(matches!(
        first.client_bytes(&hello, &mut SystemRng),
        Next::Continue
    ));
    let mut second = acceptor(Some(filter));
    let Next::Relay { why, .. } = second.client_bytes(&hello, &mut SystemRng) else {
        panic!()
    };
    assert_eq!(why, RelayReason::Replayed);
}

#[test]
fn http_is_relayed_to_dest_with_what_dest_already_said() {
    let mut acceptor = acceptor(None);
    assert!(matches!(
        acceptor.client_bytes(b"GE", &mut SystemRng),
        Next::Relay { .. }
    ));
    let mut acceptor = self::acceptor(None);
    let Next::Relay { to_client, why, .. } = acceptor.dest_bytes(b"banner", &mut SystemRng) else {
        panic!()
    };
    assert_eq!(to_client, b"banner");
    assert_eq!(why, RelayReason::DestSpokeFirst);
}

#[test]
fn a_dest_that_does_not_answer_with_tls13_turns_the_connection_into_a_relay() {
    let mut acceptor = acceptor(None);
    let hello = client("0123abcd").poll_output();
    assert!(matches!(
        acceptor.client_bytes(&hello, &mut SystemRng),
        Next::Continue
    ));
    assert!(
        !acceptor.is_mirroring(),
        "mirroring stops once the hello authenticated"
    );
    assert!(matches!(
        acceptor.client_bytes(b"early", &mut SystemRng),
        Next::Continue
    ));
    let tls12_alert = [21, 3, 1, 0, 2, 2, 70];
    let Next::Relay {
        to_client,
        to_dest,
        why,
    } = acceptor.dest_bytes(&tls12_alert, &mut SystemRng)
    else {
        panic!()
    };
    assert_eq!(to_client, tls12_alert);
    assert_eq!(
        to_dest, b"early",
        "bytes sent after mirroring stopped go to dest on relay"
    );
    assert!(matches!(why, RelayReason::DestProfile(_)));
}

mod garbage {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn arbitrary_client_and_dest_bytes_end_in_a_decision_or_waiting_never_a_panic(
            client_bytes in proptest::collection::vec(any::<u8>(), 0..300),
            dest_bytes in proptest::collection::vec(any::<u8>(), 0..300),
            real_hello_first in any::<bool>(),
        ) {
            let mut acceptor = acceptor(None);
            if real_hello_first {
                let _ = acceptor.client_bytes(&client("0123abcd").poll_output(), &mut SystemRng);
            }
            let _ = acceptor.client_bytes(&client_bytes, &mut SystemRng);
            let next = acceptor.dest_bytes(&dest_bytes, &mut SystemRng);
            // Random bytes from dest are never a usable TLS 1.3 answer.
            let accepted = matches!(next, Next::Accept { .. });
            prop_assert!(!accepted, "random dest bytes were accepted");
        }
    }
}
