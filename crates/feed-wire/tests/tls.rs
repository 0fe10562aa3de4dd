//! The link's mutual TLS, handshaken in memory: the pinned certificate is accepted and the node is known by its own pin; a different certificate, or a node without one, is refused.

use std::sync::Arc;

use feed_wire::tls::{client_config, peer_pin, server_config};
use feed_wire::CertPin;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConnection, ConnectionCommon, ServerConnection};

struct Credential {
    cert: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

fn credential(name: &str) -> Credential {
    let made = rcgen::generate_simple_self_signed(vec![name.into()]).expect("a certificate");
    Credential {
        cert: made.cert.der().clone(),
        key: PrivatePkcs8KeyDer::from(made.key_pair.serialize_der()),
    }
}

impl Credential {
    fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(self.key.clone_key())
    }
}

/// Moves TLS records both ways until both sides are done or one fails.
fn handshake(
    client: &mut ClientConnection,
    server: &mut ServerConnection,
) -> Result<(), rustls::Error> {
    for _ in 0..20 {
        transfer(client, server)?;
        transfer(server, client)?;
        if !client.is_handshaking() && !server.is_handshaking() {
            return Ok(());
        }
    }
    panic!("the handshake did not finish");
}

fn transfer<A, B>(
    from: &mut ConnectionCommon<A>,
    to: &mut ConnectionCommon<B>,
) -> Result<(), rustls::Error> {
    let mut bytes = Vec::new();
    while from.wants_write() {
        from.write_tls(&mut bytes).expect("write to memory");
    }
    let mut rest = &bytes[..];
    while !rest.is_empty() {
        to.read_tls(&mut rest).expect("read from memory");
        to.process_new_packets()?;
    }
    Ok(())
}

fn pair(
    pin: CertPin,
    control: &Credential,
    node: &Credential,
) -> (ClientConnection, ServerConnection) {
    let client = client_config(pin, node.cert.clone(), node.key()).expect("client config");
    let server = server_config(control.cert.clone(), control.key()).expect("server config");
    (
        ClientConnection::new(
            Arc::new(client),
            ServerName::try_from("control.example").expect("valid"),
        )
        .expect("valid"),
        ServerConnection::new(Arc::new(server)).expect("valid"),
    )
}

#[test]
fn the_pinned_certificate_is_accepted_and_the_node_is_known_by_its_pin() {
    let control = credential("control.example");
    let node = credential("node");
    let (mut client, mut server) = pair(CertPin::of_der(&control.cert), &control, &node);
    handshake(&mut client, &mut server).unwrap();
    assert_eq!(peer_pin(&server), Some(CertPin::of_der(&node.cert)));
    assert_eq!(peer_pin(&client), Some(CertPin::of_der(&control.cert)));
    assert_eq!(client.alpn_protocol(), Some(feed_wire::ALPN));
}

#[test]
fn a_control_plane_with_another_certificate_is_refused() {
    let control = credential("control.example");
    let impostor = credential("control.example");
    let node = credential("node");
    let (mut client, mut server) = pair(CertPin::of_der(&control.cert), &impostor, &node);
    let err = handshake(&mut client, &mut server).unwrap_err();
    assert_eq!(
        err,
        rustls::Error::InvalidCertificate(rustls::CertificateError::ApplicationVerificationFailure)
    );
}

#[test]
fn a_node_without_a_client_certificate_is_refused() {
    let control = credential("control.example");
    let client = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13])
    .unwrap()
    .dangerous()
    .with_custom_certificate_verifier(Arc::new(feed_wire::tls::PinnedServer::new(
        CertPin::of_der(&control.cert),
    )))
    .with_no_client_auth();
    let server = server_config(control.cert.clone(), control.key()).expect("server config");
    let mut client = ClientConnection::new(
        Arc::new(client),
        ServerName::try_from("control.example").unwrap(),
    )
    .unwrap();
    let mut server = ServerConnection::new(Arc::new(server)).unwrap();
    let err = handshake(&mut client, &mut server).unwrap_err();
    assert_eq!(err, rustls::Error::NoCertificatesPresented);
}
