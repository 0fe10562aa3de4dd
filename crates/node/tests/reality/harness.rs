//! The REALITY node on loopback for these tests, with `openssl s_server -tls1_3` playing
//! `dest`, and the client side: crate `xtls-stream`'s client role, the same stack `milly
//! client` runs.

use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::Arc;
use std::time::Duration;

use node::{
    AccessEntry, AccessTable, AccessUpdate, CancellationToken, Metrics, Node, NodeConfig,
    RealitySettings, TlsSource,
};
use reality::{parse_short_id, ClientConfig, ClientHandshake, RecordLayer, ServerConfig, TlsError};
use testkit::TlsSite;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use vless::{Address, Destination, Flow, Request, UserKey};
use xtls_stream::{RecordStream, VisionStream};

#[path = "../shared/wire.rs"]
mod wire;

pub use wire::{destination, mux_frame};

pub const KEY: [u8; 32] = [0x31; 32];
pub const SHORT_ID: &str = "0123abcd";
pub const NAME: &str = "www.example.com";
pub const USER: [u8; 16] = [0x42; 16];

pub struct TestNode {
    pub addr: SocketAddr,
    pub metrics: Arc<Metrics>,
    shutdown: CancellationToken,
    _dest: TlsSite,
}

impl TestNode {
    pub async fn start() -> TestNode {
        let dest = testkit::TlsSite::start(NAME);
        let dest_addr = dest.addr();
        TestNode::start_with(dest, dest_addr).await
    }

    /// A node relaying strangers to `dest_addr` (`dest` only lives as long as the node).
    pub async fn start_with(dest: TlsSite, dest_addr: SocketAddr) -> TestNode {
        TestNode::start_with_timeout(dest, dest_addr, Duration::from_secs(5)).await
    }

    pub async fn start_with_timeout(
        dest: TlsSite,
        dest_addr: SocketAddr,
        timeout: Duration,
    ) -> TestNode {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let settings = RealitySettings {
            server: ServerConfig {
                private_key: KEY,
                short_ids: vec![parse_short_id(SHORT_ID).unwrap()],
                server_names: vec![NAME.into()],
                max_time_diff: Some(Duration::from_secs(60)),
                min_client_version: None,
                max_client_version: None,
            },
            dest: dest_addr.to_string(),
            mldsa65_seed: None,
        };
        // The website fallback is only for authenticated clients that are not VLESS.
        let website = StdListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let mut config = NodeConfig::new(addr, TlsSource::Reality(Box::new(settings)), website);
        config.allow_private_destinations = true;
        config.handshake_timeout = timeout;
        let access = AccessTable::new();
        access.apply(AccessUpdate::Snapshot {
            revision: 1,
            entries: vec![AccessEntry {
                key: UserKey(USER),
                expires_at: i64::MAX,
            }],
        });
        let node = Node::new(config, access).unwrap();
        let metrics = node.metrics();
        let shutdown = CancellationToken::new();
        tokio::spawn(node.run(listener, shutdown.clone()));
        TestNode {
            addr,
            metrics,
            shutdown,
            _dest: dest,
        }
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub fn client_config() -> ClientConfig {
    ClientConfig {
        server_name: NAME.into(),
        public_key: reality::public_key(&KEY),
        short_id: parse_short_id(SHORT_ID).unwrap(),
        version: [25, 10, 1],
        post_quantum: true,
        mldsa65_verify: None,
    }
}

/// Sends `hello`'s ClientHello and runs the client handshake; returns the ClientHello bytes
/// sent too (for the replay test).
pub async fn handshake(
    node: SocketAddr,
    mut hs: ClientHandshake,
) -> (TcpStream, Vec<u8>, Result<RecordLayer, TlsError>) {
    let mut sock = TcpStream::connect(node).await.unwrap();
    let hello = hs.poll_output();
    sock.write_all(&hello).await.unwrap();
    let mut buf = vec![0; 16 * 1024];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(10), sock.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "node closed during the handshake");
        match hs.feed(&buf[..n]) {
            Ok(true) => break,
            Ok(false) => {}
            Err(e) => return (sock, hello, Err(e)),
        }
    }
    sock.write_all(&hs.poll_output()).await.unwrap();
    let layer = hs.into_record_layer().unwrap();
    (sock, hello, Ok(layer))
}

pub async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut conn, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let (mut r, mut w) = conn.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    addr
}

pub fn vless_request(echo: SocketAddr) -> Vec<u8> {
    let SocketAddr::V4(v4) = echo else {
        panic!("loopback v4")
    };
    let request = Request {
        user: UserKey(USER),
        flow: Flow::None,
        command: vless::Command::Tcp,
        destination: Some(Destination {
            address: Address::Ipv4(*v4.ip()),
            port: v4.port(),
        }),
    };
    let mut out = Vec::new();
    vless::encode_request(&request, &mut out);
    out
}

pub fn message(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(31).wrapping_add(seed) % 251) as u8)
        .collect()
}

/// A plain TCP dest that answers "dest read: " and whatever it read until end of stream.
pub async fn answering_dest() -> (SocketAddr, tokio::task::JoinHandle<Vec<u8>>) {
    let plain = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = plain.local_addr().unwrap();
    let seen = tokio::spawn(async move {
        let (mut conn, _) = plain.accept().await.unwrap();
        let mut got = Vec::new();
        conn.read_to_end(&mut got).await.unwrap();
        let mut answer = b"dest read: ".to_vec();
        answer.extend_from_slice(&got);
        conn.write_all(&answer).await.unwrap();
        got
    });
    (addr, seen)
}

/// Our side of VLESS + Vision over REALITY, as `milly client` (and an Xray client) does it:
/// the REALITY handshake, then Vision with the request in front of the first bytes.
pub async fn vision_client(
    node: SocketAddr,
    command: vless::Command,
    destination: Option<Destination>,
) -> VisionStream<RecordStream<TcpStream>> {
    let sock = TcpStream::connect(node).await.unwrap();
    let stream = xtls_stream::connect(sock, &client_config()).await.unwrap();
    let mut request = Vec::new();
    vless::encode_request(
        &Request {
            user: UserKey(USER),
            flow: Flow::Vision,
            command,
            destination,
        },
        &mut request,
    );
    VisionStream::client(stream, UserKey(USER), request)
}

/// Sends `bytes` whole (flushed).
pub async fn send(client: &mut VisionStream<RecordStream<TcpStream>>, bytes: &[u8]) {
    client.write_all(bytes).await.unwrap();
    client.flush().await.unwrap();
}

/// Some inner bytes from the node.
pub async fn recv(client: &mut VisionStream<RecordStream<TcpStream>>) -> Vec<u8> {
    let mut buf = vec![0; 32 * 1024];
    let n = tokio::time::timeout(Duration::from_secs(10), client.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert!(n > 0, "node closed");
    buf.truncate(n);
    buf
}
