//! The budgets over real loopback sockets, with short limits.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::time::{Duration, Instant};

use axum::routing::get;
use ppp::v2::{Builder, Command, Protocol, Version};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::*;

const SHORT: Duration = Duration::from_millis(400);
const LONG: Duration = Duration::from_secs(30);

fn limits() -> ServerLimits {
    ServerLimits {
        header_read_timeout: LONG,
        keepalive_idle: LONG,
        request_timeout: LONG,
        max_connections: 100,
        shutdown_grace: LONG,
    }
}

/// `/peer` answers the connection's address as the handler sees it; `/slow` takes 800 ms.
fn router() -> Router {
    Router::new()
        .route(
            "/peer",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(800)).await;
                "done"
            }),
        )
}

struct Running {
    addrs: Vec<SocketAddr>,
    shutdown: CancellationToken,
    done: tokio::task::JoinHandle<()>,
}

async fn start(router: Router, limits: ServerLimits, intakes: &[AddressSource]) -> Running {
    let mut listeners = Vec::new();
    let mut addrs = Vec::new();
    for intake in intakes {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        addrs.push(l.local_addr().unwrap());
        listeners.push((l, intake.clone()));
    }
    let shutdown = CancellationToken::new();
    let done = tokio::spawn(serve_intakes(listeners, router, limits, shutdown.clone()));
    Running {
        addrs,
        shutdown,
        done,
    }
}

/// The test router on one direct intake under `limits`, and a connection to it.
async fn direct(limits: ServerLimits) -> (Running, TcpStream) {
    let r = start(router(), limits, &[AddressSource::Direct]).await;
    let s = TcpStream::connect(r.addrs[0]).await.unwrap();
    (r, s)
}

/// Sends `request` on `s` and reads until the server closes or one response has arrived.
async fn exchange(s: &mut TcpStream, request: &str) -> String {
    s.write_all(request.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
            .await
            .unwrap()
            .unwrap_or(0);
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(str::to_owned)
                })
                .and_then(|v| v.trim().parse::<usize>().ok());
            if len.is_some_and(|n| body.len() >= n) {
                break;
            }
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

fn get_request(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n")
}

/// Waits until the server closes `s`; how long that took.
async fn closed_after(s: &mut TcpStream) -> Duration {
    let t = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return t.elapsed(),
            Ok(Ok(_)) => {}
            Err(_) => panic!("the server kept the connection open for 10 s"),
        }
    }
}

#[tokio::test]
async fn handlers_see_the_connections_address() {
    let (_r, mut s) = direct(limits()).await;
    let answer = exchange(&mut s, &get_request("/peer")).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.ends_with(&s.local_addr().unwrap().to_string()),
        "{answer}"
    );
}

#[tokio::test]
async fn half_a_header_is_dropped_after_the_header_read_timeout() {
    let (_r, mut s) = direct(ServerLimits {
        header_read_timeout: SHORT,
        ..limits()
    })
    .await;
    s.write_all(b"GET /peer HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let t = closed_after(&mut s).await;
    assert!(
        t >= SHORT - Duration::from_millis(50) && t < SHORT * 5,
        "{t:?}"
    );
}

#[tokio::test]
async fn a_trickling_header_is_dropped_too() {
    let (_r, mut s) = direct(ServerLimits {
        header_read_timeout: SHORT,
        ..limits()
    })
    .await;
    let t = Instant::now();
    for b in b"GET /peer HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n" {
        if s.write_all(&[*b]).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    closed_after(&mut s).await;
    assert!(t.elapsed() < SHORT * 5, "{:?}", t.elapsed());
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let (_r, mut s) = direct(ServerLimits {
        keepalive_idle: SHORT,
        ..limits()
    })
    .await;
    let answer = exchange(&mut s, &get_request("/peer")).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let t = closed_after(&mut s).await;
    assert!(
        t >= SHORT - Duration::from_millis(100) && t < SHORT * 5,
        "{t:?}"
    );
}

#[tokio::test]
async fn a_request_in_progress_outlives_idleness() {
    let (_r, mut s) = direct(ServerLimits {
        keepalive_idle: SHORT,
        ..limits()
    })
    .await;
    let answer = exchange(&mut s, &get_request("/slow")).await;
    assert!(
        answer.starts_with("HTTP/1.1 200") && answer.ends_with("done"),
        "{answer}"
    );
}

#[tokio::test]
async fn a_request_past_its_deadline_gets_408() {
    let (_r, mut s) = direct(ServerLimits {
        request_timeout: SHORT,
        ..limits()
    })
    .await;
    let t = Instant::now();
    let answer = exchange(&mut s, &get_request("/slow")).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        t.elapsed() < Duration::from_millis(800),
        "{:?}",
        t.elapsed()
    );
}

#[tokio::test]
async fn past_the_cap_a_connection_waits_for_a_free_slot() {
    let r = start(
        router(),
        ServerLimits {
            header_read_timeout: SHORT,
            max_connections: 2,
            ..limits()
        },
        &[AddressSource::Direct],
    )
    .await;
    let mut holders = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(r.addrs[0]).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        holders.push(s);
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let t = Instant::now();
    let mut s = TcpStream::connect(r.addrs[0]).await.unwrap();
    let answer = exchange(&mut s, &get_request("/peer")).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let waited = t.elapsed();
    assert!(
        waited >= SHORT - Duration::from_millis(150),
        "answered after {waited:?}, before the holders were dropped"
    );
}

#[tokio::test]
async fn shutdown_lets_a_request_in_flight_finish_and_then_stops() {
    let (r, mut s) = direct(limits()).await;
    s.write_all(get_request("/slow").as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    r.shutdown.cancel();
    let answer = exchange(&mut s, "").await;
    assert!(
        answer.starts_with("HTTP/1.1 200") && answer.ends_with("done"),
        "{answer}"
    );
    tokio::time::timeout(Duration::from_secs(5), r.done)
        .await
        .unwrap()
        .unwrap();
    assert!(
        TcpStream::connect(r.addrs[0]).await.is_err(),
        "no longer listening"
    );
}

#[tokio::test]
async fn shutdown_cuts_off_what_does_not_finish_within_the_grace_period() {
    let (r, mut s) = direct(ServerLimits {
        shutdown_grace: Duration::from_millis(200),
        ..limits()
    })
    .await;
    s.write_all(get_request("/slow").as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let t = Instant::now();
    r.shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), r.done)
        .await
        .unwrap()
        .unwrap();
    assert!(
        t.elapsed() < Duration::from_millis(700),
        "{:?}",
        t.elapsed()
    );
}

fn proxy_v2(source: &str, destination: SocketAddr) -> Vec<u8> {
    let source: SocketAddr = source.parse().unwrap();
    Builder::with_addresses(
        Version::Two | Command::Proxy,
        Protocol::Stream,
        (source, destination),
    )
    .build()
    .unwrap()
}

#[tokio::test]
async fn on_the_proxy_intake_the_headers_source_is_the_connections_address() {
    let r = start(router(), limits(), &[AddressSource::ProxyV2]).await;
    for (source, to) in [
        ("198.51.100.7:40000", r.addrs[0].to_string()),
        (
            "[2001:db8::9]:40001",
            format!("[::1]:{}", r.addrs[0].port()),
        ),
    ] {
        let mut s = TcpStream::connect(r.addrs[0]).await.unwrap();
        s.write_all(&proxy_v2(source, to.parse().unwrap()))
            .await
            .unwrap();
        let answer = exchange(&mut s, &get_request("/peer")).await;
        assert!(
            answer.ends_with(&source.parse::<SocketAddr>().unwrap().to_string()),
            "{answer}"
        );
    }
}

#[tokio::test]
async fn on_the_proxy_intake_a_connection_without_the_header_is_closed_unanswered() {
    let r = start(router(), limits(), &[AddressSource::ProxyV2]).await;
    let mut s = TcpStream::connect(r.addrs[0]).await.unwrap();
    let answer = exchange(&mut s, &get_request("/peer")).await;
    assert_eq!(answer, "");
}

#[tokio::test]
async fn the_proxy_intake_and_the_public_one_serve_side_by_side() {
    let r = start(
        router(),
        limits(),
        &[AddressSource::Direct, AddressSource::ProxyV2],
    )
    .await;
    let mut direct = TcpStream::connect(r.addrs[0]).await.unwrap();
    let answer = exchange(&mut direct, &get_request("/peer")).await;
    assert!(
        answer.ends_with(&direct.local_addr().unwrap().to_string()),
        "{answer}"
    );
    let mut proxied = TcpStream::connect(r.addrs[1]).await.unwrap();
    proxied
        .write_all(&proxy_v2("203.0.113.4:5000", r.addrs[1]))
        .await
        .unwrap();
    let answer = exchange(&mut proxied, &get_request("/peer")).await;
    assert!(answer.ends_with("203.0.113.4:5000"), "{answer}");
}

/// `/sub/` on the real website router: its rate limit counts the PROXY header's source.
#[tokio::test]
async fn the_subscription_limit_keys_on_the_proxied_source() {
    let site = crate::Site::new(crate::SiteSettings::default());
    let r = start(crate::router(site), limits(), &[AddressSource::ProxyV2]).await;
    let burst = crate::rate_limit::SUBSCRIPTION_LIMIT.burst;
    let status = |answer: String| answer.get(9..12).unwrap_or("").to_owned();
    // Source A: one more request than its burst, each on its own connection, all at once (the
    // subscription page answers a guessed token slowly on purpose, so one by one the bucket
    // would refill meanwhile).
    let mut asks = tokio::task::JoinSet::new();
    for i in 0..=burst {
        let to = r.addrs[0];
        asks.spawn(async move {
            let mut s = TcpStream::connect(to).await.unwrap();
            let mut request = proxy_v2(&format!("198.51.100.1:{}", 1000 + i), to);
            request.extend_from_slice(get_request("/sub/some-token").as_bytes());
            s.write_all(&request).await.unwrap();
            exchange(&mut s, "").await
        });
    }
    let mut refused = 0;
    while let Some(answer) = asks.join_next().await {
        if status(answer.unwrap()) == "429" {
            refused += 1;
        }
    }
    assert_eq!(refused, 1, "connections from one source share one bucket");
    // Source B, over the same kind of loopback connection, has its own bucket.
    let mut s = TcpStream::connect(r.addrs[0]).await.unwrap();
    s.write_all(&proxy_v2("198.51.100.2:1000", r.addrs[0]))
        .await
        .unwrap();
    assert_ne!(
        status(exchange(&mut s, &get_request("/sub/some-token")).await),
        "429"
    );
}

/// A resolver with nothing to present (an ACME certificate not issued yet).
#[derive(Debug)]
struct NoCertificateYet;

impl rustls::server::ResolvesServerCert for NoCertificateYet {
    fn resolve(
        &self,
        _hello: rustls::server::ClientHello<'_>,
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        None
    }
}

#[tokio::test]
async fn a_tls_client_that_never_finishes_its_handshake_is_dropped_like_a_slowloris() {
    let intake = AddressSource::Tls(tls_intake(Arc::new(NoCertificateYet)).unwrap());
    let r = start(
        router(),
        ServerLimits {
            header_read_timeout: SHORT,
            ..limits()
        },
        &[intake],
    )
    .await;
    let mut s = TcpStream::connect(r.addrs[0]).await.unwrap();
    // Half a TLS record header, then silence.
    s.write_all(&[0x16, 0x03]).await.unwrap();
    let t = closed_after(&mut s).await;
    assert!(t >= SHORT - Duration::from_millis(50), "{t:?}");
    assert!(t < SHORT * 4, "{t:?}");
}
