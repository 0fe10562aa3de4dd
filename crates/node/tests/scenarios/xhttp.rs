//! XHTTP and gRPC on the TLS port: Xray-core's client in each XHTTP mode and over gRPC, raw
//! HTTP/1.1 requests for what a client would not do (packets out of order, a download that
//! never comes), and probes of the transports' paths, which get the website.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::json;
use testkit::peer::{Peer, PeerKind};
use testkit::{EchoMode, TcpEcho};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vless::Command;

use crate::harness::{read_all, request, user, Options, TestNode, PAGE};

pub const XHTTP_PATH: &str = "/s3cret/xh";
pub const GRPC_SERVICE: &str = "s3cret.grpc";

/// A TLS node serving XHTTP and gRPC, with the harness's defaults otherwise.
async fn node_with_transports() -> TestNode {
    TestNode::start(Options {
        http: transports(),
        ..Options::default()
    })
    .await
}

pub fn transports() -> node::HttpTransports {
    node::HttpTransports {
        xhttp: Some(XHTTP_PATH.into()),
        grpc: Some(GRPC_SERVICE.into()),
        ..node::HttpTransports::default()
    }
}

fn uuid(id: [u8; 16]) -> String {
    uuid::Uuid::from_bytes(id).to_string()
}

fn padding() -> String {
    "X".repeat(200)
}

/// An Xray client over `network` ("xhttp" in `mode`, or "grpc", `TunMulti` for mode "multi")
/// to `node`: over TLS trusting
/// `cert_pem` (Xray 26 has no `allowInsecure`), or in plain HTTP without one.
pub fn xray_client(
    node: SocketAddr,
    cert_pem: Option<&str>,
    socks: SocketAddr,
    network: &str,
    mode: &str,
) -> serde_json::Value {
    let mut stream = json!({ "network": network, "security": "none" });
    if let Some(cert) = cert_pem {
        let pem: Vec<&str> = cert.lines().collect();
        stream["security"] = json!("tls");
        stream["tlsSettings"] = json!({
            "serverName": "localhost",
            "certificates": [{ "usage": "verify", "certificate": pem }],
        });
    }
    match network {
        "xhttp" => stream["xhttpSettings"] = json!({ "path": XHTTP_PATH, "mode": mode }),
        _ => {
            stream["grpcSettings"] =
                json!({ "serviceName": GRPC_SERVICE, "multiMode": mode == "multi" })
        }
    }
    json!({
        "log": { "loglevel": "warning" },
        "inbounds": [{
            "listen": socks.ip().to_string(), "port": socks.port(), "protocol": "socks",
            "settings": { "udp": true, "ip": socks.ip().to_string() },
        }],
        "outbounds": [{
            "protocol": "vless",
            "settings": { "vnext": [{
                "address": node.ip().to_string(), "port": node.port(),
                "users": [{ "id": uuid(user(1)), "encryption": "none" }],
            }]},
            "streamSettings": stream,
        }],
    })
}

/// Three flows at once through the SOCKS5 client at `socks` to `target`, each echoed exactly
/// (false when one differs or fails).
pub async fn three_echoed_flows(socks: SocketAddr, target: SocketAddr) -> bool {
    let mut flows = Vec::new();
    for i in 0..3u8 {
        flows.push(tokio::spawn(async move {
            let payload = testkit::traffic::random_bytes(200_000 + usize::from(i) * 7919);
            let Ok(stream) = testkit::socks::connect(socks, target).await else {
                return false;
            };
            let (mut r, mut w) = stream.into_split();
            let sent = payload.clone();
            // The writing half stays open until the echo is back: sing-box's gRPC does not
            // carry a half-close (it ends the whole call).
            let writer = tokio::spawn(async move { w.write_all(&sent).await.map(|()| w) });
            let mut back = vec![0u8; payload.len()];
            let read = tokio::time::timeout(Duration::from_secs(20), r.read_exact(&mut back)).await;
            let written = matches!(writer.await, Ok(Ok(_)));
            matches!(read, Ok(Ok(_))) && written && back == payload
        }));
    }
    let mut all = true;
    for flow in flows {
        all &= flow.await.unwrap_or(false);
    }
    all
}

#[tokio::test]
async fn xray_carries_tcp_and_udp_over_every_xhttp_mode_and_grpc_exactly() {
    let Some(xray) = PeerKind::Xray.require() else {
        return;
    };
    let node = node_with_transports().await;
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let udp_echo = testkit::UdpEcho::start().await.unwrap();
    for (network, mode) in [
        ("xhttp", "packet-up"),
        ("xhttp", "stream-up"),
        ("xhttp", "stream-one"),
        ("xhttp", "auto"),
        ("grpc", ""),
        ("grpc", "multi"),
    ] {
        let socks = testkit::port::free_tcp_addr();
        let before = node.metrics.snapshot();
        let config = xray_client(node.addr, Some(&node.cert_pem), socks, network, mode);
        let client = Peer::start(PeerKind::Xray, &xray, &config, socks)
            .await
            .unwrap();
        assert!(
            three_echoed_flows(socks, echo.addr()).await,
            "{network} {mode}: other bytes came back\n{}",
            client.log()
        );
        let sizes = testkit::traffic::udp_sizes_for(PeerKind::Xray);
        testkit::traffic::udp_roundtrips(socks, udp_echo.addr(), &sizes)
            .await
            .unwrap_or_else(|e| panic!("{network} {mode}: UDP: {e}\n{}", client.log()));
        // HTTP/2 carries several VLESS connections over one TCP connection (Xray's XMUX, gRPC's
        // streams): fewer TCP connections than sessions.
        let after = node.metrics.snapshot();
        let connections = after.connections_accepted - before.connections_accepted;
        let sessions = after.sessions - before.sessions;
        assert!(
            sessions >= 4 && connections < sessions,
            "{network} {mode}: {connections} connections for {sessions} sessions"
        );
    }
    assert!(node.metrics.snapshot().sessions >= 15);
    node.stop().await;
}

/// One HTTP/1.1 request over its own TLS connection; the raw response.
async fn exchange(node: &TestNode, head: &str, body: &[u8]) -> Vec<u8> {
    let mut stream = node.tls().await;
    let mut out = head.as_bytes().to_vec();
    out.extend_from_slice(body);
    stream.write_all(&out).await.unwrap();
    stream.flush().await.unwrap();
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    while !response.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "no response");
        response.extend_from_slice(&buf[..n]);
    }
    response
}

fn post(path: &str, body: &[u8]) -> String {
    format!(
        "POST {path}?x_padding={} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n\r\n",
        padding(),
        body.len()
    )
}

fn status(response: &[u8]) -> String {
    String::from_utf8_lossy(&response[..12.min(response.len())]).into_owned()
}

#[tokio::test]
async fn packet_up_packets_sent_out_of_order_reach_the_destination_in_order() {
    let node = node_with_transports().await;
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let session = "0b7c1e3a-5d6f-4a8b-9c0d-1e2f3a4b5c6d";
    let mut header = Vec::new();
    vless::encode_request(&request(user(1), Command::Tcp, echo.addr()), &mut header);
    let packets: [Vec<u8>; 3] = [
        header[..10].to_vec(),
        [&header[10..], b"first-".as_slice()].concat(),
        b"second".to_vec(),
    ];
    // The download first, on its own connection, read as it streams.
    let mut download = node.tls().await;
    let get = format!(
        "GET {XHTTP_PATH}/{session}?x_padding={} HTTP/1.1\r\nHost: localhost\r\n\r\n",
        padding()
    );
    download.write_all(get.as_bytes()).await.unwrap();
    for seq in [2usize, 0, 1] {
        let response = exchange(
            &node,
            &post(&format!("{XHTTP_PATH}/{session}/{seq}"), &packets[seq]),
            &packets[seq],
        )
        .await;
        assert_eq!(status(&response), "HTTP/1.1 200", "packet {seq}");
    }
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !seen.windows(12).any(|w| w == b"first-second") {
        let n = tokio::time::timeout(Duration::from_secs(5), download.read(&mut buf))
            .await
            .expect("the echo comes down the download")
            .unwrap();
        assert!(n > 0, "the download ended early");
        seen.extend_from_slice(&buf[..n]);
    }
    assert!(seen.starts_with(b"HTTP/1.1 200 OK\r\n"));
    node.stop().await;
}

#[tokio::test]
async fn a_session_whose_download_never_comes_is_dropped_within_its_limit() {
    let node = TestNode::start(Options {
        http: transports(),
        xhttp_sessions: node::XhttpSessionLimits {
            half_open_ttl: Duration::from_millis(800),
            half_open_idle: Duration::from_millis(800),
            ..node::XhttpSessionLimits::default()
        },
        ..Options::default()
    })
    .await;
    let path = format!("{XHTTP_PATH}/5e55-half-open/0");
    let first = exchange(&node, &post(&path, b"held"), b"held").await;
    assert_eq!(status(&first), "HTTP/1.1 200");
    // The same packet again while the session is held: a duplicate.
    let again = exchange(&node, &post(&path, b"held"), b"held").await;
    assert_eq!(status(&again), "HTTP/1.1 400");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // The session and its bytes are gone: packet 0 starts a new one.
    let fresh = exchange(&node, &post(&path, b"held"), b"held").await;
    assert_eq!(status(&fresh), "HTTP/1.1 200");
    node.stop().await;
}

#[tokio::test]
async fn probes_of_the_transport_paths_get_the_website() {
    let node = node_with_transports().await;
    for head in [
        // No padding: not what Xray's client sends.
        format!("GET {XHTTP_PATH}/some-session HTTP/1.1\r\nHost: localhost\r\n\r\n"),
        format!("POST {XHTTP_PATH}/ HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n"),
        // gRPC over HTTP/1.1, or without its content type.
        format!("POST /{GRPC_SERVICE}/Tun HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/grpc\r\nContent-Length: 0\r\n\r\n"),
        format!("GET /{GRPC_SERVICE}/Tun HTTP/1.1\r\nHost: localhost\r\n\r\n"),
    ] {
        let mut stream = node.tls().await;
        stream.write_all(head.as_bytes()).await.unwrap();
        let page = String::from_utf8(read_all(&mut stream).await).unwrap();
        assert!(page.starts_with("HTTP/1.1 200 OK"), "{head}: {page}");
        assert!(page.ends_with(PAGE), "{head}: {page}");
    }
    node.stop().await;
}

#[tokio::test]
async fn a_wrong_user_over_xhttp_gets_nothing_through() {
    let node = node_with_transports().await;
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let mut body = Vec::new();
    vless::encode_request(&request(user(9), Command::Tcp, echo.addr()), &mut body);
    body.extend_from_slice(b"let me in");
    // stream-one: one POST, the upload its body and the download its response.
    let mut stream = node.tls().await;
    let mut out = post(&format!("{XHTTP_PATH}/"), &body).into_bytes();
    out.extend_from_slice(&body);
    stream.write_all(&out).await.unwrap();
    // The response is chunked; the last chunk ends it.
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    while !response.ends_with(b"0\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .expect("the response ends")
            .unwrap();
        assert!(n > 0);
        response.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&response);
    assert!(!text.contains("let me in"), "{text}");
    assert_eq!(echo.accepted(), 0);
    assert_eq!(node.metrics.snapshot().unknown_user, 1);
    node.stop().await;
}

#[tokio::test]
async fn sing_box_carries_tcp_over_grpc_exactly() {
    let Some(sing_box) = PeerKind::SingBox.require() else {
        return;
    };
    let node = node_with_transports().await;
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let socks = testkit::port::free_tcp_addr();
    let config = json!({
        "log": { "level": "warn" },
        "inbounds": [{ "type": "socks", "listen": socks.ip().to_string(), "listen_port": socks.port() }],
        "outbounds": [{
            "type": "vless",
            "server": node.addr.ip().to_string(),
            "server_port": node.addr.port(),
            "uuid": uuid(user(1)),
            "tls": { "enabled": true, "server_name": "localhost", "insecure": true },
            "transport": { "type": "grpc", "service_name": GRPC_SERVICE },
        }],
    });
    let client = Peer::start(PeerKind::SingBox, &sing_box, &config, socks)
        .await
        .unwrap();
    assert!(
        three_echoed_flows(socks, echo.addr()).await,
        "other bytes came back\n{}",
        client.log()
    );
    node.stop().await;
}
