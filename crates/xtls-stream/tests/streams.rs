//! Both roles of the stack over an in-memory pipe, with record layers from a real REALITY
//! handshake: bytes cross whole through the record layer, and through Vision with the VLESS
//! headers around it.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::time::{Duration, SystemTime};

use reality::{
    parse_short_id, ClientConfig, ClientHandshake, ClientHello, Parse, RealityCert, RecordLayer,
    ServerConfig, ServerHandshake, ServerOptions, SystemRng,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vless::{Address, Command, Destination, Flow, Request, UserKey};
use xtls_stream::{RecordStream, VisionStream};

const KEY: [u8; 32] = [9; 32];
const USER: UserKey = UserKey([0x24; 16]);

/// A client and a server record layer from a real handshake without a dest profile.
fn layers() -> (RecordLayer, RecordLayer) {
    let server = ServerConfig {
        private_key: KEY,
        short_ids: vec![parse_short_id("ab").unwrap()],
        server_names: vec!["dest.test".into()],
        max_time_diff: None,
        min_client_version: None,
        max_client_version: None,
    };
    let client = ClientConfig {
        server_name: "dest.test".into(),
        public_key: reality::public_key(&KEY),
        short_id: parse_short_id("ab").unwrap(),
        version: [25, 1, 1],
        post_quantum: false,
        mldsa65_verify: None,
    };
    let now = SystemTime::now();
    let mut hs = ClientHandshake::new(&client, now, &mut SystemRng).unwrap();
    let Parse::Done { value: hello, .. } = ClientHello::read(&hs.poll_output()).unwrap() else {
        panic!("incomplete hello");
    };
    let auth = server.authenticate(&hello, now).unwrap();
    let cert = RealityCert::generate(&mut SystemRng);
    let mut handshake = ServerHandshake::new(
        &hello,
        &auth.auth_key,
        &cert,
        &ServerOptions::default(),
        None,
        &mut SystemRng,
    )
    .unwrap();
    assert!(hs.feed(&handshake.poll_output()).unwrap());
    assert!(handshake.feed(&hs.poll_output()).unwrap());
    (
        hs.into_record_layer().unwrap(),
        handshake.into_record_layer().unwrap(),
    )
}

fn pattern(len: u32) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[tokio::test]
async fn bytes_written_to_one_stream_are_read_whole_from_the_other_and_shutdown_is_end_of_stream() {
    let (client, server) = layers();
    let (a, b) = tokio::io::duplex(4096);
    let mut client = RecordStream::reality(a, client);
    let mut server = RecordStream::reality(b, server);
    let data = pattern(100_000);
    let sent = data.clone();
    let writer = tokio::spawn(async move {
        client.write_all(&sent).await.unwrap();
        client.shutdown().await.unwrap();
        client
    });
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), server.read_to_end(&mut got))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, data);
    writer.await.unwrap();
}

#[tokio::test]
async fn the_client_role_sends_its_request_first_and_both_roles_see_each_others_bytes_exactly() {
    let (client, server) = layers();
    let (a, b) = tokio::io::duplex(4096);
    let mut request = Vec::new();
    vless::encode_request(
        &Request {
            user: USER,
            flow: Flow::Vision,
            command: Command::Tcp,
            destination: Some(Destination {
                address: Address::Domain("example.test".into()),
                port: 443,
            }),
        },
        &mut request,
    );
    let mut client = VisionStream::client(RecordStream::reality(a, client), USER, request);
    let up = pattern(70_000);
    let down: Vec<u8> = pattern(50_000).into_iter().rev().collect();
    let (sent_up, sent_down) = (up.clone(), down.clone());
    let node = tokio::spawn(async move {
        let mut stream = RecordStream::reality(b, server);
        let mut head = Vec::new();
        let (request, used) = loop {
            let mut buf = [0u8; 512];
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "the client closed before its request");
            head.extend_from_slice(&buf[..n]);
            if let vless::Parse::Done { value, consumed } = vless::decode_request(&head).unwrap() {
                break (value, consumed);
            }
        };
        assert_eq!(request.flow, Flow::Vision);
        let mut response = Vec::new();
        vless::encode_response(&mut response);
        stream.write_all(&response).await.unwrap();
        let mut vision = VisionStream::server(&mut stream, request.user, &head[used..]).unwrap();
        let mut got = vec![0u8; sent_up.len()];
        vision.read_exact(&mut got).await.unwrap();
        vision.write_all(&sent_down).await.unwrap();
        vision.shutdown().await.unwrap();
        got
    });
    client.write_all(&up).await.unwrap();
    client.flush().await.unwrap();
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), client.read_to_end(&mut got))
        .await
        .unwrap()
        .unwrap();
    assert!(got == down, "bytes down differ");
    assert!(node.await.unwrap() == up, "bytes up differ");
    assert!(
        !client.is_read_direct() && !client.is_write_direct(),
        "not TLS inside"
    );
}
