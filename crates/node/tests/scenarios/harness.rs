//! A node on loopback with a self-signed certificate, a website behind it, and a rustls client
//! that speaks VLESS: what the scenarios are built from (with testkit's echo servers).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use node::{AccessEntry, AccessTable, AccessUpdate, Metrics, Node, NodeConfig, TlsSource};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use tokio_util::sync::CancellationToken;
use vless::{Address, Command, Destination, Flow, Request, UserKey};

#[path = "../shared/wire.rs"]
pub mod wire;

pub const PAGE: &str = "<h1>milly website</h1>";

pub struct TestNode {
    pub addr: SocketAddr,
    pub access: AccessTable,
    pub metrics: Arc<Metrics>,
    pub website: Website,
    /// The node's self-signed certificate (PEM), for clients that pin it.
    pub cert_pem: String,
    connector: TlsConnector,
    shutdown: CancellationToken,
    task: JoinHandle<Result<(), node::NodeError>>,
}

pub struct Options {
    pub allow_private: bool,
    pub handshake_timeout: Duration,
    pub max_connections: usize,
    pub max_mux_sessions: usize,
    pub max_sockets_per_user: usize,
    pub max_handshakes_per_source: usize,
    pub http: node::HttpTransports,
    pub xhttp_sessions: node::XhttpSessionLimits,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            allow_private: true,
            handshake_timeout: Duration::from_secs(5),
            max_connections: 100,
            max_mux_sessions: node::config::DEFAULT_MAX_MUX_SESSIONS,
            max_sockets_per_user: node::config::DEFAULT_MAX_SOCKETS_PER_USER,
            max_handshakes_per_source: node::config::DEFAULT_MAX_HANDSHAKES_PER_SOURCE,
            http: node::HttpTransports::default(),
            xhttp_sessions: node::config::default_xhttp_sessions(),
        }
    }
}

pub fn user(n: u8) -> [u8; 16] {
    let mut id = [0x5a; 16];
    id[0] = n;
    id[15] = n.wrapping_mul(37);
    id
}

impl TestNode {
    /// A node whose table allows `user(1)` and `user(2)` forever.
    pub async fn start(options: Options) -> TestNode {
        let website = Website::start().await;
        let (cert_pem, key_pem) = node::generate_self_signed(&["localhost".into()]).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = NodeConfig::new(
            addr,
            TlsSource::Pem {
                cert: cert_pem.clone(),
                key: key_pem,
            },
            website.addr,
        );
        config.allow_private_destinations = options.allow_private;
        config.handshake_timeout = options.handshake_timeout;
        config.max_connections = options.max_connections;
        config.max_mux_sessions = options.max_mux_sessions;
        config.max_sockets_per_user = options.max_sockets_per_user;
        config.max_handshakes_per_source = options.max_handshakes_per_source;
        config.http = options.http;
        config.xhttp_sessions = options.xhttp_sessions;
        let access = AccessTable::new();
        access.apply(AccessUpdate::Snapshot {
            revision: 1,
            entries: vec![forever(user(1)), forever(user(2))],
        });
        let node = Node::new(config, access.clone()).unwrap();
        let metrics = node.metrics();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(node.run(listener, shutdown.clone()));
        TestNode {
            addr,
            access,
            metrics,
            website,
            connector: connector(&cert_pem),
            cert_pem,
            shutdown,
            task,
        }
    }

    /// A TLS connection to the node, as any HTTPS client would open.
    pub async fn tls(&self) -> TlsStream<TcpStream> {
        let tcp = TcpStream::connect(self.addr).await.unwrap();
        let name = ServerName::try_from("localhost").unwrap();
        self.connector.connect(name, tcp).await.unwrap()
    }

    /// A TLS connection made by a client with these settings (protocol versions, suites).
    pub async fn tls_with(&self, client: Arc<rustls::ClientConfig>) -> TlsStream<TcpStream> {
        let tcp = TcpStream::connect(self.addr).await.unwrap();
        let name = ServerName::try_from("localhost").unwrap();
        TlsConnector::from(client).connect(name, tcp).await.unwrap()
    }

    /// A client configuration that trusts this node, offering only `versions` and `suites`.
    pub fn client_config(
        &self,
        versions: &[&'static rustls::SupportedProtocolVersion],
        suites: &[rustls::SupportedCipherSuite],
    ) -> Arc<rustls::ClientConfig> {
        let mut provider = rustls::crypto::ring::default_provider();
        provider
            .cipher_suites
            .retain(|s| suites.iter().any(|w| w.suite() == s.suite()));
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_pemfile::certs(&mut self.cert_pem.as_bytes()) {
            roots.add(cert.unwrap()).unwrap();
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
            .with_protocol_versions(versions)
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        Arc::new(config)
    }

    /// A VLESS connection for `id` to `dest` with `payload` sent along with the header.
    pub async fn vless(
        &self,
        id: [u8; 16],
        command: Command,
        dest: SocketAddr,
        payload: &[u8],
    ) -> TlsStream<TcpStream> {
        let mut stream = self.tls().await;
        let mut out = Vec::new();
        vless::encode_request(&request(id, command, dest), &mut out);
        out.extend_from_slice(payload);
        stream.write_all(&out).await.unwrap();
        stream.flush().await.unwrap();
        stream
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .expect("node stops after shutdown")
            .unwrap()
            .unwrap();
    }
}

pub fn forever(key: [u8; 16]) -> AccessEntry {
    AccessEntry {
        key: vless::UserKey(key),
        expires_at: i64::MAX,
    }
}

pub fn request(id: [u8; 16], command: Command, dest: SocketAddr) -> Request {
    let address = match dest.ip() {
        std::net::IpAddr::V4(v4) => Address::Ipv4(v4),
        std::net::IpAddr::V6(v6) => Address::Ipv6(v6),
    };
    Request {
        user: UserKey(id),
        flow: Flow::None,
        command,
        destination: Some(Destination {
            address,
            port: dest.port(),
        }),
    }
}

/// Reads the two-byte VLESS response header.
pub async fn expect_response(stream: &mut TlsStream<TcpStream>) {
    let mut header = [0u8; 2];
    stream.read_exact(&mut header).await.unwrap();
    assert_eq!(header, [0, 0]);
}

fn connector(cert_pem: &str) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut cert_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

/// The fallback website: answers whatever it receives with [`PAGE`] and records the bytes.
pub struct Website {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Website {
    async fn start() -> Website {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = received.clone();
        tokio::spawn(async move {
            loop {
                let (mut conn, _) = listener.accept().await.unwrap();
                let log = log.clone();
                tokio::spawn(async move {
                    let mut got = Vec::new();
                    let mut buf = [0u8; 4096];
                    // Read a request head, or whatever arrives before the client goes quiet.
                    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tokio::time::timeout(Duration::from_millis(300), conn.read(&mut buf))
                            .await
                        {
                            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
                            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
                        }
                    }
                    log.lock().unwrap().push(got);
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                        PAGE.len(),
                        PAGE
                    );
                    let _ = conn.write_all(answer.as_bytes()).await;
                    let _ = conn.shutdown().await;
                });
            }
        });
        Website { addr, received }
    }

    pub fn requests(&self) -> Vec<Vec<u8>> {
        self.received.lock().unwrap().clone()
    }
}

/// Reads until the peer closes (or fails), returning what arrived.
pub async fn read_all(stream: &mut TlsStream<TcpStream>) -> Vec<u8> {
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut got)).await;
    got
}

/// A Mux.Cool frame as the client receives it.
#[derive(Debug)]
pub struct OwnedFrame {
    pub session_id: u16,
    pub status: vless::mux::Status,
    pub data: Option<Vec<u8>>,
}

/// Reads Mux frames from a stream, keeping what arrives after a frame for the next one.
#[derive(Default)]
pub struct FrameReader {
    buf: Vec<u8>,
}

impl FrameReader {
    pub async fn next(&mut self, stream: &mut TlsStream<TcpStream>) -> OwnedFrame {
        loop {
            if let vless::Parse::Done {
                value: frame,
                consumed: used,
            } = vless::mux::decode_frame(&self.buf).unwrap()
            {
                let owned = OwnedFrame {
                    session_id: frame.session_id,
                    status: frame.status,
                    data: frame.data.map(<[u8]>::to_vec),
                };
                self.buf.drain(..used);
                return owned;
            }
            let mut chunk = [0u8; 4096];
            let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut chunk))
                .await
                .expect("a frame in time")
                .unwrap();
            assert!(n > 0, "the node closed the mux connection");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// A VLESS Mux connection for `id` (the request carries no destination).
pub async fn mux_connection(node: &TestNode, id: [u8; 16]) -> TlsStream<TcpStream> {
    let mut stream = node.tls().await;
    let mut out = Vec::new();
    let request = Request {
        user: UserKey(id),
        flow: Flow::None,
        command: Command::Mux,
        destination: None,
    };
    vless::encode_request(&request, &mut out);
    stream.write_all(&out).await.unwrap();
    expect_response(&mut stream).await;
    stream
}
