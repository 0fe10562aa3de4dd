//! The client's REALITY + Vision outbound against a node played by the reality crate's server
//! engine and xtls-stream's server role (so the node's relay reports what each end saw): bytes cross exactly, an
//! inner TLS 1.3 session makes Vision switch to direct copy both ways, and a wrong key never
//! reaches the destination.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use client::xtls::Relayed;
use client::{ClientLink, Counters, Outbound};
use reality::{
    encode_key, public_key, ClientHello, Parse, RealityCert, ServerConfig, ServerHandshake,
    ServerOptions, SystemRng,
};
use testkit::traffic::{self, random_bytes};
use testkit::{EchoMode, TcpEcho};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use xtls_stream::{RecordStream, Relay, Tally, VisionStream};

const SERVER_KEY: [u8; 32] = [0x42; 32];
const USER: &str = "b831381d-6324-4d53-ad4f-8cda48b30811";
const SNI: &str = "www.example.org";
const SHORT_ID: &str = "6ba85179e30d4fc2";

/// A node speaking REALITY + Vision that relays every connection to `target`, and what its
/// finished relays reported.
struct TestNode {
    addr: SocketAddr,
    relays: Arc<Mutex<Vec<Relayed>>>,
    rejected: Arc<Mutex<usize>>,
}

async fn test_node(target: SocketAddr) -> TestNode {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let relays = Arc::new(Mutex::new(Vec::new()));
    let rejected = Arc::new(Mutex::new(0));
    let config = Arc::new(ServerConfig {
        private_key: SERVER_KEY,
        short_ids: vec![reality::parse_short_id(SHORT_ID).unwrap()],
        server_names: vec![SNI.into()],
        max_time_diff: Some(Duration::from_secs(60)),
        min_client_version: None,
        max_client_version: None,
    });
    let cert = Arc::new(RealityCert::generate(&mut SystemRng));
    let (r, j) = (relays.clone(), rejected.clone());
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let (config, cert, r, j) = (config.clone(), cert.clone(), r.clone(), j.clone());
            tokio::spawn(async move {
                match serve(socket, &config, &cert, target).await {
                    Some(relayed) => r.lock().unwrap().push(relayed),
                    None => *j.lock().unwrap() += 1,
                }
            });
        }
    });
    TestNode {
        addr,
        relays,
        rejected,
    }
}

/// One connection: REALITY handshake, then Vision relay to `target`. `None` if the hello does
/// not authenticate (a real node would hand it to `dest`).
async fn serve(
    mut socket: TcpStream,
    config: &ServerConfig,
    cert: &RealityCert,
    target: SocketAddr,
) -> Option<Relayed> {
    let mut input = Vec::new();
    let hello = loop {
        let mut buf = [0u8; 4096];
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        input.extend_from_slice(&buf[..n]);
        if let Parse::Done { value, .. } = ClientHello::read(&input).ok()? {
            break value;
        }
    };
    let auth = config.authenticate(&hello, SystemTime::now()).ok()?;
    let mut hs = ServerHandshake::new(
        &hello,
        &auth.auth_key,
        cert,
        &ServerOptions::default(),
        None,
        &mut SystemRng,
    )
    .ok()?;
    socket.write_all(&hs.poll_output()).await.ok()?;
    let mut buf = [0u8; 4096];
    loop {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        if hs.feed(&buf[..n]).ok()? {
            break;
        }
    }
    let mut stream = RecordStream::reality(socket, hs.into_record_layer()?);
    // The request header, then the node's side of Vision (xtls-stream's server role).
    let mut head = Vec::new();
    let (request, used) = loop {
        let mut buf = [0u8; 1024];
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
        if let vless::Parse::Done { value, consumed } = vless::decode_request(&head).ok()? {
            break (value, consumed);
        }
    };
    assert_eq!(
        request.user.0,
        *uuid::Uuid::parse_str(USER).unwrap().as_bytes()
    );
    let mut out = TcpStream::connect(target).await.ok()?;
    let mut response = Vec::new();
    vless::encode_response(&mut response);
    stream.write_all(&response).await.ok()?;
    let mut vision = VisionStream::server(&mut stream, request.user, &head[used..]).ok()?;
    let tally = Tally::default();
    let pipes = Arc::new(Semaphore::new(2));
    Relay::new(&mut vision, &mut out, Vec::new(), Vec::new(), &tally)
        .with_splice(&pipes)
        .await
        .ok()?;
    let moved = tally.total();
    // As the node's end sees it: it sends what came from `target`.
    Some(Relayed {
        sent: moved.down,
        received: moved.up,
        direct_out: vision.is_write_direct(),
        direct_in: vision.is_read_direct(),
        spliced: moved.spliced,
    })
}

/// Waits up to two seconds for `done`, then asserts it.
async fn eventually(done: impl Fn() -> bool) {
    for _ in 0..100 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(done(), "condition not reached within two seconds");
}

fn link(node: SocketAddr, server_key: [u8; 32]) -> ClientLink {
    let pbk = encode_key(&public_key(&server_key));
    format!(
        "vless://{USER}@{ip}:{port}?encryption=none&type=tcp&security=reality&pbk={pbk}&sid={SHORT_ID}&sni={SNI}&fp=chrome&flow=xtls-rprx-vision#t",
        ip = node.ip(),
        port = node.port()
    )
    .parse()
    .unwrap()
}

/// `milly client`'s SOCKS inbound for `link`, on a free loopback port.
async fn socks_client(link: &ClientLink) -> (SocketAddr, Arc<Counters>, CancellationToken) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let counters = Arc::new(Counters::default());
    let shutdown = CancellationToken::new();
    tokio::spawn(client::serve_socks(
        listener,
        Outbound::new(link).unwrap(),
        counters.clone(),
        shutdown.clone(),
    ));
    (addr, counters, shutdown)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_bytes_cross_reality_and_vision_padding_exactly_over_concurrent_connections() {
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let node = test_node(echo.addr()).await;
    let (socks, _, shutdown) = socks_client(&link(node.addr, SERVER_KEY)).await;

    traffic::tcp_roundtrips(socks, echo.addr(), 4, 1024 * 1024)
        .await
        .unwrap();
    // The echo answers only after our EOF: close_notify must carry the half-close.
    let after_eof = TcpEcho::start(EchoMode::AfterEof).await.unwrap();
    let after_eof_node = test_node(after_eof.addr()).await;
    let (socks2, _, shutdown2) = socks_client(&link(after_eof_node.addr, SERVER_KEY)).await;
    traffic::tcp_roundtrip(socks2, after_eof.addr(), &random_bytes(200_000))
        .await
        .unwrap();

    let relays = node.relays.lock().unwrap().clone();
    assert_eq!(relays.len(), 4);
    for r in relays {
        assert_eq!((r.sent, r.received), (1024 * 1024, 1024 * 1024));
        assert!(!r.direct_in && !r.direct_out, "random bytes are not TLS");
    }
    shutdown.cancel();
    shutdown2.cancel();
}

/// A TLS 1.3 echo server with a self-signed certificate: the destination of an inner TLS
/// session, the case Vision's direct copy is for.
async fn tls_echo() -> SocketAddr {
    let certified = rcgen::generate_simple_self_signed(vec!["inner.test".into()]).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.key_pair.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13])
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![certified.cert.der().clone()], key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(socket).await else {
                    return;
                };
                // Read, then answer, on the one stream (a web server's rhythm). The flush
                // matters: tokio-rustls keeps the records a full socket did not take, and
                // would sit on them while it waits for the next request.
                let mut buf = vec![0u8; 64 * 1024];
                while let Ok(n) = tls.read(&mut buf).await {
                    if n == 0
                        || tls.write_all(&buf[..n]).await.is_err()
                        || tls.flush().await.is_err()
                    {
                        break;
                    }
                }
                let _ = tls.shutdown().await;
            });
        }
    });
    addr
}

/// A TLS 1.3 session inside the tunnel: through the SOCKS port at `socks` to the TLS echo at
/// `target`, as a browser's to a website.
async fn inner_tls(
    socks: SocketAddr,
    target: SocketAddr,
) -> tokio_rustls::client::TlsStream<TcpStream> {
    let stream = testkit::socks::connect(socks, target).await.unwrap();
    let config = testkit::tls::insecure_client_config().unwrap();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let name = rustls::pki_types::ServerName::try_from("inner.test").unwrap();
    connector.connect(name, stream).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inner_tls13_session_switches_vision_to_direct_copy_both_ways_and_stays_exact() {
    let target = tls_echo().await;
    let node = test_node(target).await;
    let (socks, counters, shutdown) = socks_client(&link(node.addr, SERVER_KEY)).await;

    let mut tls = inner_tls(socks, target).await;
    // Requests and answers, as a browser and a web server take turns.
    for round in 0..48 {
        let request = random_bytes(1 + round * 1357);
        tls.write_all(&request).await.unwrap();
        tls.flush().await.unwrap();
        let mut answer = vec![0u8; request.len()];
        tls.read_exact(&mut answer).await.unwrap();
        assert!(answer == request, "inner TLS bytes differ in round {round}");
    }
    tls.shutdown().await.unwrap();
    let mut rest = Vec::new();
    tls.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty());

    // The node's side of the relay ends a moment after ours.
    eventually(|| !node.relays.lock().unwrap().is_empty()).await;
    let relays = node.relays.lock().unwrap().clone();
    assert_eq!(relays.len(), 1);
    assert!(
        relays[0].direct_in && relays[0].direct_out,
        "Vision did not switch to direct copy: {:?}",
        relays[0]
    );
    // After the switch the rounds' records go socket to socket with splice(2), at both ends.
    if cfg!(target_os = "linux") {
        assert!(
            relays[0].spliced > 48 * 1357,
            "the node end did not splice: {:?}",
            relays[0]
        );
        eventually(|| counters.spliced.load(std::sync::atomic::Ordering::Relaxed) > 48 * 1357)
            .await;
    }
    shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_with_another_nodes_key_never_reaches_the_destination() {
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let node = test_node(echo.addr()).await;
    let (socks, counters, shutdown) = socks_client(&link(node.addr, [0x17; 32])).await;

    let result = traffic::tcp_roundtrip(socks, echo.addr(), b"hello").await;
    assert!(result.is_err(), "a wrong key got through");
    assert_eq!(echo.accepted(), 0);
    // Both ends count the failure a moment after the connection closed.
    eventually(|| *node.rejected.lock().unwrap() == 1).await;
    eventually(|| counters.failed.load(std::sync::atomic::Ordering::Relaxed) == 1).await;
    shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inner_tls_bulk_in_both_directions_at_once_stays_exact_after_the_switch() {
    let target = tls_echo().await;
    let node = test_node(target).await;
    let (socks, _, shutdown) = socks_client(&link(node.addr, SERVER_KEY)).await;
    let tls = inner_tls(socks, target).await;
    let (mut r, mut w) = tokio::io::split(tls);
    let payload = random_bytes(3 * 1024 * 1024);
    let sent = payload.clone();
    let writer = tokio::spawn(async move {
        w.write_all(&sent).await.unwrap();
        w.shutdown().await.unwrap();
    });
    let mut back = Vec::new();
    let mut buf = vec![0u8; 65536];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(3), r.read(&mut buf)).await;
        match n {
            Ok(Ok(0)) => break,
            Ok(Ok(n)) => back.extend_from_slice(&buf[..n]),
            Ok(Err(e)) => panic!("read {e}"),
            Err(_) => panic!("stalled after {} bytes came back", back.len()),
        }
    }
    writer.await.unwrap();
    assert!(back == payload, "inner TLS bytes differ after the tunnel");
    shutdown.cancel();
}
