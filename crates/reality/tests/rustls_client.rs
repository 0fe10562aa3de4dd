//! Our server engine against a real TLS 1.3 client (rustls): proves the handshake, key
//! schedule and record protection are standard TLS 1.3, in every suite.
//!
//! REALITY authentication is bypassed the way the engine allows: `ServerHandshake::new` is
//! called with an arbitrary AuthKey, and the test's certificate verifier knows that key.

#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::sync::Arc;

use reality::{verify_reality_certificate, ClientHello, Parse, Received, RecordLayer, SystemRng};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme};

mod support;

use support::answer;

const AUTH_KEY: [u8; 32] = [9; 32];

/// Accepts exactly the REALITY certificate for `AUTH_KEY` and checks the CertificateVerify
/// signature (over the message rustls built) with its Ed25519 key.
#[derive(Debug)]
struct RealityVerifier;

impl ServerCertVerifier for RealityVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        verify_reality_certificate(end_entity, &AUTH_KEY)
            .map(|_| ServerCertVerified::assertion())
            .map_err(|_| rustls::Error::General("not our certificate".into()))
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General("TLS 1.2 is not offered".into()))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let key = verify_reality_certificate(cert, &AUTH_KEY)
            .map_err(|_| rustls::Error::General("cert".into()))?;
        assert_eq!(dss.scheme, SignatureScheme::ED25519);
        ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, key)
            .verify(message, dss.signature())
            .map(|_| HandshakeSignatureValid::assertion())
            .map_err(|_| rustls::Error::General("bad CertificateVerify".into()))
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        vec![SignatureScheme::ED25519]
    }
}

fn rustls_client(suite: rustls::SupportedCipherSuite) -> ClientConnection {
    let mut provider = rustls::crypto::ring::default_provider();
    provider.cipher_suites = vec![suite];
    let mut config = ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(RealityVerifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    ClientConnection::new(
        Arc::new(config),
        ServerName::try_from("www.example.com").unwrap(),
    )
    .unwrap()
}

fn take_tls(client: &mut ClientConnection) -> Vec<u8> {
    let mut out = Vec::new();
    while client.wants_write() {
        client.write_tls(&mut out).unwrap();
    }
    out
}

/// Feeds TLS bytes to rustls; returns the plaintext it yields on the way.
fn give_tls(client: &mut ClientConnection, mut bytes: &[u8]) -> Vec<u8> {
    let mut plain = Vec::new();
    while !bytes.is_empty() {
        client.read_tls(&mut bytes).unwrap();
        let state = client.process_new_packets().unwrap();
        let mut chunk = vec![0; state.plaintext_bytes_to_read()];
        client.reader().read_exact(&mut chunk).unwrap();
        plain.extend_from_slice(&chunk);
    }
    plain
}

fn handshake(suite: rustls::SupportedCipherSuite) -> (ClientConnection, RecordLayer) {
    let mut client = rustls_client(suite);
    let hello_bytes = take_tls(&mut client);
    let Parse::Done { value: hello, .. } = ClientHello::read(&hello_bytes).unwrap() else {
        panic!("rustls's hello did not parse whole")
    };
    let mut server = answer(&hello, &AUTH_KEY);
    give_tls(&mut client, &server.poll_output());
    assert!(!client.is_handshaking(), "rustls finished its handshake");
    assert_eq!(client.alpn_protocol(), Some(&b"h2"[..]));
    assert!(
        server.feed(&take_tls(&mut client)).unwrap(),
        "server verified rustls's Finished"
    );
    (client, server.into_record_layer().unwrap())
}

#[test]
fn rustls_completes_the_handshake_and_exchanges_data_in_every_suite() {
    use rustls::crypto::ring::cipher_suite::*;
    for suite in [
        TLS13_AES_128_GCM_SHA256,
        TLS13_AES_256_GCM_SHA384,
        TLS13_CHACHA20_POLY1305_SHA256,
    ] {
        let (mut client, mut server) = handshake(suite);

        let up: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
        for chunk in up.chunks(16_384) {
            client.writer().write_all(chunk).unwrap();
            server.feed(&take_tls(&mut client));
        }
        let mut got = Vec::new();
        while let Received::Data(_) | Received::Other = server.read(&mut got).unwrap() {}
        assert_eq!(got, up, "{suite:?} client to server");

        let down: Vec<u8> = (0..40_000u32).map(|i| (i % 13) as u8).collect();
        let mut wire = Vec::new();
        server.write(&down, &mut wire).unwrap();
        server.write_close_notify(&mut wire).unwrap();
        let got = give_tls(&mut client, &wire);
        let mut rest = Vec::new();
        assert_eq!(
            client.reader().read_to_end(&mut rest).unwrap(),
            0,
            "close_notify seen"
        );
        assert_eq!(got, down, "{suite:?} server to client");

        client.send_close_notify();
        server.feed(&take_tls(&mut client));
        assert_eq!(server.read(&mut Vec::new()).unwrap(), Received::Closed);
    }
}

#[test]
fn a_plain_tls_client_at_the_acceptor_is_relayed_and_finishes_its_handshake_with_dest() {
    use reality::{Next, Reject, RelayReason};

    let mut acceptor = support::acceptor(None);
    let mut client = rustls_client(rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256);
    let hello_bytes = take_tls(&mut client);
    let Next::Relay { to_client, why, .. } = acceptor.client_bytes(&hello_bytes, &mut SystemRng)
    else {
        panic!("a plain TLS client was accepted")
    };
    assert_eq!(why, RelayReason::Rejected(Reject::BadSessionId));
    assert!(to_client.is_empty());

    // dest (a TLS 1.3 server whose certificate this client's verifier accepts) answers the
    // mirrored hello, and the relay carries it through unchanged.
    let Parse::Done { value: hello, .. } = ClientHello::read(&hello_bytes).unwrap() else {
        panic!()
    };
    let mut dest = answer(&hello, &AUTH_KEY);
    give_tls(&mut client, &dest.poll_output());
    assert!(!client.is_handshaking());
    assert!(dest.feed(&take_tls(&mut client)).unwrap());
}
