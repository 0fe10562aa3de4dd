//! What the reality tests share: a REALITY server's and a client's configs that accept each
//! other, an acceptor for that server, and our server engine answering a hello.

// Each test file uses the part it needs.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use reality::{
    parse_short_id, Acceptor, ClientConfig, ClientHandshake, ClientHello, Parse, RealityCert,
    ReplayFilter, ServerConfig, ServerHandshake, ServerOptions, SystemRng,
};
use x25519_dalek::{PublicKey, StaticSecret};

pub const SERVER_KEY: [u8; 32] = [0x42; 32];

/// Allows `www.example.com` with the empty short id or `0123abcd`, within a minute of its
/// clock, from any client version.
pub fn server_config() -> ServerConfig {
    ServerConfig {
        private_key: SERVER_KEY,
        short_ids: vec![
            parse_short_id("").unwrap(),
            parse_short_id("0123abcd").unwrap(),
        ],
        server_names: vec!["www.example.com".into()],
        max_time_diff: Some(Duration::from_secs(60)),
        min_client_version: None,
        max_client_version: None,
    }
}

/// A client `server_config()` allows: short id `0123abcd`, version 25.10.1, post-quantum.
pub fn client_config() -> ClientConfig {
    ClientConfig {
        server_name: "www.example.com".into(),
        public_key: PublicKey::from(&StaticSecret::from(SERVER_KEY)).to_bytes(),
        short_id: parse_short_id("0123abcd").unwrap(),
        version: [25, 10, 1],
        post_quantum: true,
        mldsa65_verify: None,
    }
}

/// The acceptor of a node configured with `server_config()` and a fresh certificate, with a
/// replay filter if given.
pub fn acceptor(replay: Option<Arc<Mutex<ReplayFilter>>>) -> Acceptor {
    Acceptor::new(
        Arc::new(server_config()),
        Arc::new(RealityCert::generate(&mut SystemRng)),
        Arc::new(ServerOptions::default()),
        replay,
        SystemTime::now(),
    )
}

/// The hello `client` sends, parsed, and its bytes.
pub fn hello_from(client: &mut ClientHandshake) -> (ClientHello, Vec<u8>) {
    let bytes = client.poll_output();
    let Parse::Done { value, consumed } = ClientHello::read(&bytes).unwrap() else {
        panic!("the client's hello is incomplete")
    };
    assert_eq!(consumed, bytes.len());
    (value, bytes)
}

/// Our server engine answering `hello` with `auth_key`, a fresh certificate and the default
/// options, without a dest profile.
pub fn answer(hello: &ClientHello, auth_key: &[u8; 32]) -> ServerHandshake {
    answer_with(hello, auth_key, &RealityCert::generate(&mut SystemRng))
}

/// `answer`, with the certificate `cert`.
pub fn answer_with(
    hello: &ClientHello,
    auth_key: &[u8; 32],
    cert: &RealityCert,
) -> ServerHandshake {
    ServerHandshake::new(
        hello,
        auth_key,
        cert,
        &ServerOptions::default(),
        None,
        &mut SystemRng,
    )
    .unwrap()
}
