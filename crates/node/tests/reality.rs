//! The node with `TlsSource::Reality` on loopback, with `openssl s_server -tls1_3` playing
//! `dest`: our REALITY client gets VLESS through to an echo server byte for byte, a plain
//! TLS client sees dest's certificate, and every kind of stranger ends up at dest.

#![allow(clippy::unwrap_used)]

use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use testkit::TlsSite;

use node::{
    AccessEntry, AccessTable, AccessUpdate, CancellationToken, Metrics, Node, NodeConfig,
    RealitySettings, TlsSource,
};
use reality::{
    parse_short_id, ClientConfig, ClientHandshake, Received, RecordLayer, ServerConfig, SystemRng,
    TlsError,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use vless::{Address, Destination, Flow, Request, UserKey};

const KEY: [u8; 32] = [0x31; 32];
const SHORT_ID: &str = "0123abcd";
const NAME: &str = "www.example.com";
const USER: [u8; 16] = [0x42; 16];

struct TestNode {
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
    _dest: TlsSite,
}

impl TestNode {
    async fn start() -> TestNode {
        let dest = testkit::TlsSite::start(NAME);
        let dest_addr = dest.addr();
        TestNode::start_with(dest, dest_addr).await
    }

    /// A node relaying strangers to `dest_addr` (`dest` only lives as long as the node).
    async fn start_with(dest: TlsSite, dest_addr: SocketAddr) -> TestNode {
        TestNode::start_with_timeout(dest, dest_addr, Duration::from_secs(5)).await
    }

    async fn start_with_timeout(
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
                key: USER,
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

fn client_config() -> ClientConfig {
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
async fn handshake(
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

async fn echo_server() -> SocketAddr {
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

fn vless_request(echo: SocketAddr) -> Vec<u8> {
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

/// One REALITY connection with plain VLESS (no flow): request plus `message` up; what came
/// back after the two-byte VLESS response header, or `None` when the node closed without one.
async fn plain_echo(node: SocketAddr, echo: SocketAddr, message: &[u8]) -> Option<Vec<u8>> {
    let hs = ClientHandshake::new(&client_config(), SystemTime::now(), &mut SystemRng).unwrap();
    let (mut sock, _, layer) = handshake(node, hs).await;
    let mut layer = layer.unwrap();
    let mut plain = vless_request(echo);
    plain.extend_from_slice(message);
    let mut wire = Vec::new();
    layer.write(&plain, &mut wire).unwrap();
    sock.write_all(&wire).await.unwrap();
    let mut got = Vec::new();
    let mut buf = vec![0; 32 * 1024];
    while got.len() < message.len() + 2 {
        match layer.read(&mut got).unwrap() {
            Received::NeedMore => {
                let n = tokio::time::timeout(Duration::from_secs(10), sock.read(&mut buf))
                    .await
                    .unwrap()
                    .unwrap_or(0);
                if n == 0 {
                    break;
                }
                layer.feed(&buf[..n]);
            }
            Received::Closed => break,
            Received::Data(_) | Received::Other => {}
        }
    }
    if got.len() < 2 {
        return None;
    }
    assert_eq!(got[..2], [vless::VERSION, 0], "VLESS response header");
    Some(got.split_off(2))
}

fn message(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(31).wrapping_add(seed) % 251) as u8)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_reaches_an_echo_server_byte_exact_over_several_connections() {
    let node = TestNode::start().await;
    let echo = echo_server().await;
    let addr = node.addr;
    let mut tasks = Vec::new();
    for (i, len) in [1, 1000, 16_384, 16_385, 100_000, 300_000]
        .into_iter()
        .enumerate()
    {
        tasks.push(tokio::spawn(async move {
            let sent = message(len, i as u32);
            let mut client = VisionClient::connect(addr, echo).await;
            client.send(&sent).await;
            let mut got = Vec::new();
            while got.len() < sent.len() {
                got.extend_from_slice(&client.recv().await);
            }
            (sent, got)
        }));
    }
    for task in tasks {
        let (sent, got) = task.await.unwrap();
        assert_eq!(got.len(), sent.len());
        assert!(got == sent, "echo differs");
    }
    let seen = node.metrics.snapshot();
    assert_eq!(seen.sessions, 6);
    assert_eq!(seen.fallbacks, 0);
}

/// As Xray-core does for users whose flow is Vision (on REALITY, all of them): plain VLESS TCP
/// from a client that lost the link's flow, whose TLS-in-TLS would show on the wire, is refused
/// — the node closes without an answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_vless_tcp_without_the_vision_flow_is_refused_as_xray_does() {
    let node = TestNode::start().await;
    let echo = echo_server().await;
    assert_eq!(plain_echo(node.addr, echo, b"hello").await, None);
    let seen = node.metrics.snapshot();
    assert_eq!(seen.sessions, 0);
    assert_eq!(seen.fallbacks, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_tls_client_is_relayed_and_sees_dests_certificate_and_page() {
    let node = TestNode::start().await;
    let text = testkit::tls_site::fetch_page(node.addr, NAME).await;
    assert!(text.contains(&format!("subject=CN = {NAME}")), "{text}");
    assert!(text.contains("s_server"), "dest's page: {text}");
    assert_eq!(node.metrics.snapshot().fallbacks, 1);
    assert_eq!(node.metrics.snapshot().sessions, 0);
}

/// A REALITY client the node must not accept gets dest's real handshake, whose certificate
/// is not a REALITY certificate for its key.
async fn assert_relayed(node: &TestNode, hs: ClientHandshake, fallbacks_before: u64) {
    let (_sock, _, layer) = handshake(node.addr, hs).await;
    assert_eq!(layer.err(), Some(TlsError::BadCertificate));
    assert_eq!(node.metrics.snapshot().fallbacks, fallbacks_before + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_short_id_stale_time_and_wrong_server_name_end_up_at_dest() {
    let node = TestNode::start().await;
    let now = SystemTime::now();

    let mut wrong_id = client_config();
    wrong_id.short_id = parse_short_id("0123abce").unwrap();
    let hs = ClientHandshake::new(&wrong_id, now, &mut SystemRng).unwrap();
    assert_relayed(&node, hs, 0).await;

    let stale = now - Duration::from_secs(300);
    let hs = ClientHandshake::new(&client_config(), stale, &mut SystemRng).unwrap();
    assert_relayed(&node, hs, 1).await;

    let mut wrong_name = client_config();
    wrong_name.server_name = "www.example.org".into();
    let hs = ClientHandshake::new(&wrong_name, now, &mut SystemRng).unwrap();
    assert_relayed(&node, hs, 2).await;

    let mut wrong_key = client_config();
    wrong_key.public_key = reality::public_key(&[0x32; 32]);
    let hs = ClientHandshake::new(&wrong_key, now, &mut SystemRng).unwrap();
    assert_relayed(&node, hs, 3).await;

    assert_eq!(node.metrics.snapshot().sessions, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_client_hello_ends_up_at_dest() {
    let node = TestNode::start().await;
    let hs = ClientHandshake::new(&client_config(), SystemTime::now(), &mut SystemRng).unwrap();
    let (_first, hello, layer) = handshake(node.addr, hs).await;
    assert!(layer.is_ok(), "the first use of the hello is served");
    assert_eq!(node.metrics.snapshot().fallbacks, 0);

    let mut replay = TcpStream::connect(node.addr).await.unwrap();
    replay.write_all(&hello).await.unwrap();
    let mut head = [0u8; 5];
    tokio::time::timeout(Duration::from_secs(10), replay.read_exact(&mut head))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(head[..3], [22, 3, 3], "a TLS handshake record from dest");
    assert_eq!(node.metrics.snapshot().fallbacks, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_that_are_not_tls_reach_dest_unchanged_and_its_answer_comes_back_unchanged() {
    // A plain TCP dest that answers what it read, so both directions can be compared.
    let plain = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let plain_addr = plain.local_addr().unwrap();
    let seen = tokio::spawn(async move {
        let (mut conn, _) = plain.accept().await.unwrap();
        let mut got = Vec::new();
        conn.read_to_end(&mut got).await.unwrap();
        let mut answer = b"dest read: ".to_vec();
        answer.extend_from_slice(&got);
        conn.write_all(&answer).await.unwrap();
        got
    });
    let node = TestNode::start_with(testkit::TlsSite::start(NAME), plain_addr).await;
    let request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut probe = TcpStream::connect(node.addr).await.unwrap();
    probe.write_all(request).await.unwrap();
    probe.shutdown().await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), probe.read_to_end(&mut answer))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen.await.unwrap(), request);
    assert_eq!(answer, [&b"dest read: "[..], request].concat());
    assert_eq!(node.metrics.snapshot().fallbacks, 1);
}

/// A plain TCP dest that answers "dest read: " and whatever it read until end of stream.
async fn answering_dest() -> (SocketAddr, tokio::task::JoinHandle<Vec<u8>>) {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prober_silent_past_the_handshake_timeout_still_talks_to_dest() {
    let (dest_addr, seen) = answering_dest().await;
    let timeout = Duration::from_millis(200);
    let node =
        TestNode::start_with_timeout(testkit::TlsSite::start(NAME), dest_addr, timeout).await;
    let mut probe = TcpStream::connect(node.addr).await.unwrap();
    tokio::time::sleep(timeout * 3).await;
    probe.write_all(b"late").await.unwrap();
    probe.shutdown().await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), probe.read_to_end(&mut answer))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen.await.unwrap(), b"late");
    assert_eq!(answer, b"dest read: late");
    assert_eq!(node.metrics.snapshot().fallbacks, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prober_that_sends_half_a_client_hello_and_closes_gets_dests_answer() {
    let (dest_addr, seen) = answering_dest().await;
    let node = TestNode::start_with(testkit::TlsSite::start(NAME), dest_addr).await;
    let mut hs = ClientHandshake::new(&client_config(), SystemTime::now(), &mut SystemRng).unwrap();
    let mut hello = hs.poll_output();
    hello.truncate(100);
    let mut probe = TcpStream::connect(node.addr).await.unwrap();
    probe.write_all(&hello).await.unwrap();
    probe.shutdown().await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), probe.read_to_end(&mut answer))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen.await.unwrap(), hello);
    assert_eq!(answer, [&b"dest read: "[..], &hello].concat());
    assert_eq!(node.metrics.snapshot().fallbacks, 1);
}

/// A TLS 1.3 server (the reality crate's engine, certified for the client's key so our client
/// engine accepts it) that echoes application data: the inner TLS a browser would speak.
/// Each connection takes the next key from the returned sender.
async fn inner_tls_echo() -> (SocketAddr, tokio::sync::mpsc::UnboundedSender<[u8; 32]>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (keys, mut next_key) = tokio::sync::mpsc::unbounded_channel::<[u8; 32]>();
    tokio::spawn(async move {
        loop {
            let (mut conn, _) = listener.accept().await.unwrap();
            let key = next_key.recv().await.unwrap();
            tokio::spawn(async move {
                let mut input = Vec::new();
                let mut buf = vec![0; 32 * 1024];
                let (hello, used) = loop {
                    let n = conn.read(&mut buf).await.unwrap();
                    assert!(n > 0);
                    input.extend_from_slice(&buf[..n]);
                    if let reality::Progress::Done { value, consumed } =
                        reality::ClientHello::read(&input).unwrap()
                    {
                        break (value, consumed);
                    }
                };
                let cert = reality::RealityCert::generate(&mut SystemRng);
                let mut hs = reality::ServerHandshake::new(
                    &hello,
                    &key,
                    &cert,
                    &reality::ServerOptions::default(),
                    None,
                    &mut SystemRng,
                )
                .unwrap();
                conn.write_all(&hs.poll_output()).await.unwrap();
                let mut done = hs.feed(&input[used..]).unwrap();
                while !done {
                    let n = conn.read(&mut buf).await.unwrap();
                    assert!(n > 0);
                    done = hs.feed(&buf[..n]).unwrap();
                }
                let mut layer = hs.into_record_layer().unwrap();
                let mut plain = Vec::new();
                loop {
                    match layer.read(&mut plain).unwrap() {
                        Received::NeedMore => {
                            let n = conn.read(&mut buf).await.unwrap();
                            if n == 0 {
                                return;
                            }
                            layer.feed(&buf[..n]);
                        }
                        Received::Closed => return,
                        _ => {
                            if !plain.is_empty() {
                                let mut wire = Vec::new();
                                layer.write(&plain, &mut wire).unwrap();
                                conn.write_all(&wire).await.unwrap();
                                plain.clear();
                            }
                        }
                    }
                }
            });
        }
    });
    (addr, keys)
}

/// Our side of VLESS + Vision over REALITY, as an Xray client does it.
struct VisionClient {
    sock: TcpStream,
    outer: RecordLayer,
    vision: vless::vision::Vision,
    header: Option<Vec<u8>>,
    response_seen: bool,
    read_direct: bool,
    write_direct: bool,
    plain: Vec<u8>,
}

fn below(n: u32) -> u32 {
    let mut b = [0u8; 4];
    reality::Rng::fill(&mut SystemRng, &mut b);
    u32::from_le_bytes(b) % n
}

impl VisionClient {
    async fn connect(node: SocketAddr, target: SocketAddr) -> VisionClient {
        VisionClient::connect_with(node, vless::Command::Tcp, Some(destination(target))).await
    }

    async fn connect_with(
        node: SocketAddr,
        command: vless::Command,
        destination: Option<Destination>,
    ) -> VisionClient {
        let hs = ClientHandshake::new(&client_config(), SystemTime::now(), &mut SystemRng).unwrap();
        let (sock, _, outer) = handshake(node, hs).await;
        let mut header = Vec::new();
        vless::encode_request(
            &Request {
                user: UserKey(USER),
                flow: Flow::Vision,
                command,
                destination,
            },
            &mut header,
        );
        VisionClient {
            sock,
            outer: outer.unwrap(),
            vision: vless::vision::Vision::new(USER),
            header: Some(header),
            response_seen: false,
            read_direct: false,
            write_direct: false,
            plain: Vec::new(),
        }
    }

    async fn send(&mut self, inner: &[u8]) {
        let mut framed = self.header.take().unwrap_or_default();
        let mode = self.vision.write(inner, &mut below, &mut framed);
        if self.write_direct {
            self.sock.write_all(&framed).await.unwrap();
            return;
        }
        let mut wire = Vec::new();
        self.outer.write(&framed, &mut wire).unwrap();
        self.sock.write_all(&wire).await.unwrap();
        if mode == vless::vision::WriteMode::Direct {
            self.write_direct = true;
        }
    }

    /// Some inner bytes from the node.
    async fn recv(&mut self) -> Vec<u8> {
        let mut buf = vec![0; 32 * 1024];
        loop {
            if self.read_direct {
                let n = tokio::time::timeout(Duration::from_secs(10), self.sock.read(&mut buf))
                    .await
                    .unwrap()
                    .unwrap();
                assert!(n > 0, "node closed");
                return buf[..n].to_vec();
            }
            match self.outer.read(&mut self.plain).unwrap() {
                Received::NeedMore => {
                    let n = tokio::time::timeout(Duration::from_secs(10), self.sock.read(&mut buf))
                        .await
                        .unwrap()
                        .unwrap();
                    assert!(n > 0, "node closed");
                    self.outer.feed(&buf[..n]);
                }
                Received::Closed => panic!("node closed"),
                Received::Data(_) | Received::Other => {
                    if !self.response_seen {
                        if self.plain.len() < 2 {
                            continue;
                        }
                        assert_eq!(self.plain[..2], [vless::VERSION, 0]);
                        self.plain.drain(..2);
                        self.response_seen = true;
                    }
                    let mut inner = Vec::new();
                    let mode = self.vision.read(&self.plain, &mut inner).unwrap();
                    self.plain.clear();
                    if mode == vless::vision::ReadMode::Direct {
                        inner.extend_from_slice(&self.outer.take_buffered());
                        self.read_direct = true;
                    }
                    if !inner.is_empty() {
                        return inner;
                    }
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vision_carries_inner_tls13_byte_exact_and_both_sides_switch_to_direct_copy() {
    let node = TestNode::start().await;
    let (target, keys) = inner_tls_echo().await;
    for round in 0..3u32 {
        let mut inner =
            ClientHandshake::new(&client_config(), SystemTime::now(), &mut SystemRng).unwrap();
        // The inner server certifies for this client's key (our client engine checks it).
        keys.send(inner.auth_key()).unwrap();
        let mut client = VisionClient::connect(node.addr, target).await;
        client.send(&inner.poll_output()).await;
        while !inner.feed(&client.recv().await).unwrap() {}
        client.send(&inner.poll_output()).await;
        let mut layer = inner.into_record_layer().unwrap();
        // A short request and its answer (whole records: both sides go direct), then bulk.
        for len in [100, 200_000 + round as usize * 1000] {
            let message = message(len, round);
            let mut wire = Vec::new();
            layer.write(&message, &mut wire).unwrap();
            client.send(&wire).await;
            let mut got = Vec::new();
            while got.len() < message.len() {
                match layer.read(&mut got).unwrap() {
                    Received::NeedMore => layer.feed(&client.recv().await),
                    Received::Closed => panic!("inner server closed"),
                    _ => {}
                }
            }
            assert!(got == message, "inner bytes differ");
        }
        assert!(client.write_direct, "the client went direct");
        assert!(client.read_direct, "the node went direct");
    }
    assert_eq!(node.metrics.snapshot().sessions, 3);
    assert_eq!(node.metrics.snapshot().fallbacks, 0);
    // On Linux the bulk after the switch goes socket to socket with splice(2); a relay adds
    // its count when it ends, a moment after its client left.
    if cfg!(target_os = "linux") {
        let start = std::time::Instant::now();
        while node.metrics.snapshot().connections_active > 0 {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "relays still open"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let spliced = node.metrics.snapshot().vision_splice_bytes;
        // Most of 2 × 3 × 200 kB; at least one direction's bulk, whatever the timing.
        assert!(
            spliced >= 3 * 200_000,
            "direct copy did not use splice: {spliced} bytes spliced"
        );
    }
}

fn destination(addr: SocketAddr) -> Destination {
    let SocketAddr::V4(v4) = addr else {
        panic!("loopback v4")
    };
    Destination {
        address: Address::Ipv4(*v4.ip()),
        port: v4.port(),
    }
}

fn mux_frame(session_id: u16, status: vless::mux::Status, data: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    let frame = vless::mux::Frame {
        session_id,
        status,
        error: false,
        data,
    };
    vless::mux::encode_frame(&frame, &mut out).unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xudp_and_tcp_ride_mux_inside_vision() {
    use vless::mux::{GlobalId, Network, Status, Target};
    let node = TestNode::start().await;
    let tcp_echo = echo_server().await;
    let udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let udp_echo = udp.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = vec![0; 2048];
        loop {
            let (n, from) = udp.recv_from(&mut buf).await.unwrap();
            udp.send_to(&buf[..n], from).await.unwrap();
        }
    });
    let mut client = VisionClient::connect_with(node.addr, vless::Command::Mux, None).await;
    let mut out = mux_frame(
        1,
        Status::New {
            target: Target {
                network: Network::Tcp,
                destination: destination(tcp_echo),
            },
            global_id: None,
        },
        Some(b"over mux"),
    );
    out.extend(mux_frame(
        2,
        Status::New {
            target: Target {
                network: Network::Udp,
                destination: destination(udp_echo),
            },
            global_id: Some(GlobalId([7; 8])),
        },
        Some(b"xudp datagram"),
    ));
    client.send(&out).await;
    let mut input = Vec::new();
    let mut tcp_back = Vec::new();
    let mut udp_back = None;
    while tcp_back.len() < 8 || udp_back.is_none() {
        let frame = loop {
            if let vless::Parse::Done(frame, used) = vless::mux::decode_frame(&input).unwrap() {
                let owned = (
                    frame.session_id,
                    frame.status,
                    frame.data.map(<[u8]>::to_vec),
                );
                input.drain(..used);
                break owned;
            }
            input.extend(client.recv().await);
        };
        match frame {
            (1, Status::Keep { udp_peer: None }, Some(data)) => tcp_back.extend(data),
            (2, Status::Keep { udp_peer }, data) => {
                assert_eq!(udp_peer, Some(destination(udp_echo)));
                udp_back = data;
            }
            other => panic!("unexpected frame {other:?}"),
        }
    }
    assert_eq!(tcp_back, b"over mux");
    assert_eq!(udp_back.unwrap(), b"xudp datagram");
    assert!(
        !client.read_direct && !client.write_direct,
        "Mux is not TLS: no direct copy"
    );
}
