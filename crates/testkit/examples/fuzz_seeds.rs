//! Captures real traffic as seeds for the fuzz corpora (`fuzz/corpus/TARGET/`): what a node
//! receives from Xray-core, sing-box and v2ray clients (TLS and REALITY ClientHellos, VLESS
//! requests for TCP and UDP, plain UDP framing, Mux.Cool/XUDP frames, and Xray's Vision padding
//! inside REALITY, terminated here by our own REALITY server), what a TLS 1.3 site answers to a
//! ClientHello (REALITY's `dest`), and curl's SOCKS5 requests. Inputs of the targets that take a
//! structured input are framed here too.
//!
//! `cargo run -p testkit --example fuzz_seeds` (after `bash .ci/install-peers`). It writes only
//! `real-*` files; every peer that is missing or sends nothing is reported and skipped.

use std::error::Error;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use client::{ClientLink, Security};
use testkit::peer::{Peer, PeerKind};
use testkit::singbox::{ClientOptions, PacketEncoding};
use testkit::socks::{self, Target, UdpAssociation};
use testkit::TlsSite;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// The user id of every capture (42424242-4242-4242-4242-424242424242): the one the Vision
/// target reads its inputs against.
const USER: [u8; 16] = [0x42; 16];
/// A real REALITY public key and short id (from a milly link).
const PBK: &str = "Z84J2IelR9ch3k8VtlVhhs5ycBUlXA7wHBWcBrjqnAw";
const SID: &str = "6ba85179e30d4fc2";
/// The private key of the REALITY node that terminates Xray's Vision connections here.
const REALITY_KEY: [u8; 32] = [0x24; 32];
/// A capture ends after this much silence.
const QUIET: Duration = Duration::from_millis(800);
/// Seeds stay small.
const MAX_SEED: usize = 8 * 1024;

fn corpus(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target)
}

fn save(target: &str, name: &str, bytes: &[u8]) -> Result<()> {
    let dir = corpus(target);
    std::fs::create_dir_all(&dir)?;
    let bytes = &bytes[..bytes.len().min(MAX_SEED)];
    std::fs::write(dir.join(format!("real-{name}")), bytes)?;
    println!("{target}/real-{name}: {} bytes", bytes.len());
    Ok(())
}

/// Reads what one connection sends until it falls silent.
async fn read_quiet(stream: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while got.len() < MAX_SEED {
        match tokio::time::timeout(QUIET, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    got
}

fn link(port: u16, security: Security, vision: bool) -> ClientLink {
    ClientLink {
        user_id: USER,
        host: "127.0.0.1".into(),
        port,
        security,
        server_name: "www.example.com".into(),
        fingerprint: Some("chrome".into()),
        vision,
        transport: client::LinkTransport::Tcp,
        name: String::new(),
    }
}

/// A node with a self-signed certificate.
fn tls() -> Security {
    Security::Tls {
        allow_insecure: true,
    }
}

#[derive(Clone, Copy)]
enum Traffic {
    Tcp,
    Udp,
}

/// Sends `traffic` through the SOCKS5 inbound at `proxy` (to nowhere real: the node records).
async fn send_traffic(proxy: SocketAddr, traffic: Traffic) {
    match traffic {
        Traffic::Tcp => {
            let target = Target::Domain("example.com".into(), 80);
            if let Ok(mut s) = socks::connect(proxy, target).await {
                let _ = s
                    .write_all(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")
                    .await;
                tokio::time::sleep(QUIET * 3).await;
            }
        }
        Traffic::Udp => {
            if let Ok(udp) = UdpAssociation::open(proxy).await {
                let dns = SocketAddr::from(([1, 1, 1, 1], 53));
                let _ = udp.send_to(b"\x12\x34\x01\x00\x00\x01", dns).await;
                let _ = udp.send_to(b"second datagram", dns).await;
                tokio::time::sleep(QUIET * 3).await;
            }
        }
    }
}

/// Starts `kind` as a client of a node at a recording listener, sends `traffic` through it and
/// returns what the node received (through `unwrap`, for TLS; `options.security_none` for
/// VLESS in the clear).
async fn capture(
    kind: PeerKind,
    security: Security,
    options: &ClientOptions,
    traffic: Traffic,
) -> Result<Vec<u8>> {
    let Some(bin) = kind.locate() else {
        return Err(format!("{} is not installed", kind.name()).into());
    };
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let peer = Peer::client(kind, &bin, &link(port, security, false), options).await?;
    let send = tokio::spawn(send_traffic(peer.addr(), traffic));
    let (mut stream, _) =
        tokio::time::timeout(Duration::from_secs(10), listener.accept()).await??;
    let got = read_quiet(&mut stream).await;
    send.abort();
    drop(peer);
    if got.is_empty() {
        return Err(format!("{} sent nothing", kind.name()).into());
    }
    Ok(got)
}

/// The node side of a REALITY connection from Xray with Vision: our own REALITY server (fixed
/// key [`REALITY_KEY`]) completes the handshake, and what the client sends inside is returned.
async fn xray_reality_vision(traffic: Traffic) -> Result<Vec<u8>> {
    use reality::{ClientHello, Parse, RealityCert, Received, ServerConfig, SystemRng};
    let bin = PeerKind::Xray.locate().ok_or("xray is not installed")?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let security = Security::Reality {
        public_key: reality::encode_key(&reality::public_key(&REALITY_KEY)),
        short_id: SID.into(),
        mldsa65_verify: None,
    };
    let link = link(port, security, true);
    let peer = Peer::client(PeerKind::Xray, &bin, &link, &ClientOptions::default()).await?;
    let send = tokio::spawn(send_traffic(peer.addr(), traffic));
    let (mut stream, _) =
        tokio::time::timeout(Duration::from_secs(10), listener.accept()).await??;
    let mut input = Vec::new();
    let mut buf = [0u8; 4096];
    let hello = loop {
        let n = tokio::time::timeout(QUIET, stream.read(&mut buf)).await??;
        if n == 0 {
            return Err("closed before its ClientHello".into());
        }
        input.extend_from_slice(&buf[..n]);
        if let Parse::Done { value, consumed } = ClientHello::read(&input)? {
            input.drain(..consumed);
            break value;
        }
    };
    let config = ServerConfig {
        private_key: REALITY_KEY,
        short_ids: vec![reality::parse_short_id(SID)?],
        server_names: vec!["www.example.com".into()],
        max_time_diff: None,
        min_client_version: None,
        max_client_version: None,
    };
    let auth = config.authenticate(&hello, std::time::SystemTime::now())?;
    let cert = RealityCert::generate(&mut SystemRng);
    let mut handshake = reality::ServerHandshake::new(
        &hello,
        &auth.auth_key,
        &cert,
        &reality::ServerOptions::default(),
        None,
        &mut SystemRng,
    )?;
    stream.write_all(&handshake.poll_output()).await?;
    while !handshake.feed(&input)? {
        let n = tokio::time::timeout(QUIET, stream.read(&mut buf)).await??;
        if n == 0 {
            return Err("closed during the handshake".into());
        }
        input = buf[..n].to_vec();
    }
    let mut layer = handshake
        .into_record_layer()
        .ok_or("handshake not complete")?;
    let mut plain = Vec::new();
    loop {
        while let Received::Data(_) | Received::Other = layer.read(&mut plain)? {}
        match tokio::time::timeout(QUIET, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 && plain.len() < MAX_SEED => layer.feed(&buf[..n]),
            _ => break,
        }
    }
    send.abort();
    drop(peer);
    Ok(plain)
}

/// The length of a VLESS request header at the start of `bytes` (version, id, addons,
/// command, port, address).
fn vless_header_len(bytes: &[u8]) -> Option<usize> {
    let addons = usize::from(*bytes.get(17)?);
    let at = 18 + addons;
    let command = *bytes.get(at)?;
    if command == 3 {
        return Some(at + 1); // Mux: no address
    }
    let kind = *bytes.get(at + 3)?;
    let address = match kind {
        1 => 4,
        3 => 16,
        2 => 1 + usize::from(*bytes.get(at + 4)?),
        _ => return None,
    };
    Some(at + 4 + address)
}

/// The content of the Vision padding frames at the start of `bytes` (user id first).
fn vision_content(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut rest = bytes.get(16..)?;
    let mut content = Vec::new();
    loop {
        let [command, c0, c1, p0, p1] = *rest.get(..5)? else {
            return None;
        };
        let len = usize::from(u16::from_be_bytes([c0, c1]));
        let pad = usize::from(u16::from_be_bytes([p0, p1]));
        content.extend_from_slice(rest.get(5..5 + len)?);
        rest = rest.get(5 + len + pad..)?;
        if command != 0 || rest.is_empty() {
            return Some(content);
        }
    }
}

/// A REALITY acceptor input: `[mode, seed]` then the bytes as chunks from the client (odd
/// tag) or from `dest` (even tag).
fn acceptor_input(mode: u8, seed: u8, client: &[u8], dest: &[u8]) -> Vec<u8> {
    let mut out = vec![mode, seed];
    for (tag, bytes) in [(1u8, client), (0u8, dest)] {
        for chunk in bytes.chunks(255) {
            out.push(tag);
            out.push(chunk.len() as u8);
            out.extend_from_slice(chunk);
        }
    }
    out
}

/// What the TLS 1.3 site answers to `hello`.
async fn dest_answer(site: &TlsSite, hello: &[u8]) -> Result<Vec<u8>> {
    let mut stream = TcpStream::connect(site.addr()).await?;
    stream.write_all(hello).await?;
    Ok(read_quiet(&mut stream).await)
}

/// curl's SOCKS5 greeting and request (`socks5` resolves locally, `socks5h` sends the name).
async fn curl_socks(scheme: &str, url: &str) -> Result<Vec<u8>> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let proxy = format!("{scheme}://{}", listener.local_addr()?);
    let mut curl = tokio::process::Command::new("curl")
        .args(["-s", "-m", "3", "-x", &proxy, url])
        .kill_on_drop(true)
        .spawn()?;
    let (mut stream, _) = tokio::time::timeout(Duration::from_secs(5), listener.accept()).await??;
    let mut greeting = vec![0u8; 3];
    stream.read_exact(&mut greeting).await?;
    stream.write_all(&[5, 0]).await?;
    let request = read_quiet(&mut stream).await;
    let _ = curl.kill().await;
    Ok([greeting, request].concat())
}

async fn report(what: &str, result: Result<()>) {
    if let Err(e) = result {
        println!("skipped {what}: {e}");
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let reality = || Security::Reality {
        public_key: PBK.into(),
        short_id: SID.into(),
        mldsa65_verify: None,
    };
    let plain_udp = ClientOptions {
        packet_encoding: PacketEncoding::Plain,
        ..ClientOptions::default()
    };
    let xudp = ClientOptions::default();
    let in_the_clear = |options: &ClientOptions| ClientOptions {
        security_none: true,
        ..options.clone()
    };
    let site = TlsSite::start("www.example.com");

    // ClientHellos, and what a TLS 1.3 site answers to them. (PyPI's sing-box has no uTLS, so
    // no REALITY; Xray 26 refuses `allowInsecure`, so no TLS to a self-signed node.)
    for (kind, security, name) in [
        (PeerKind::Xray, reality(), "xray-reality"),
        (PeerKind::SingBox, tls(), "sing-box-tls"),
        (PeerKind::V2Ray, tls(), "v2ray-tls"),
    ] {
        let result = async {
            let hello = capture(kind, security, &xudp, Traffic::Tcp).await?;
            save("reality_client_hello", name, &hello)?;
            let answer = dest_answer(&site, &hello).await?;
            save(
                "reality_dest_profile",
                &format!("openssl-to-{name}"),
                &answer,
            )?;
            save(
                "reality_acceptor",
                &format!("{name}-relayed"),
                &acceptor_input(0, 0, &hello, &answer),
            )?;
            Ok(())
        };
        report(name, result.await).await;
    }

    // VLESS requests in the clear, and the UDP, Mux and XUDP streams after them.
    for (kind, traffic, options, name) in [
        (PeerKind::Xray, Traffic::Tcp, &xudp, "xray-tcp"),
        (PeerKind::SingBox, Traffic::Tcp, &xudp, "sing-box-tcp"),
        (PeerKind::V2Ray, Traffic::Tcp, &xudp, "v2ray-tcp"),
        (PeerKind::Xray, Traffic::Udp, &xudp, "xray-udp"),
        (PeerKind::SingBox, Traffic::Udp, &xudp, "sing-box-xudp"),
        (PeerKind::SingBox, Traffic::Udp, &plain_udp, "sing-box-udp"),
        (PeerKind::V2Ray, Traffic::Udp, &xudp, "v2ray-udp"),
    ] {
        let result = async {
            let got = capture(kind, tls(), &in_the_clear(options), traffic).await?;
            save("vless_request", name, &got)?;
            let header = vless_header_len(&got).ok_or("not a VLESS request")?;
            let rest = &got[header..];
            match got[18 + usize::from(got[17])] {
                2 => save("vless_udp", name, rest)?,
                3 => {
                    save("vless_mux", name, rest)?;
                    save("vless_xudp", name, &[&[7u8][..], rest].concat())?;
                }
                _ => {}
            }
            Ok(())
        };
        report(name, result.await).await;
    }

    // Vision padding and XUDP, as Xray's client writes them inside REALITY.
    for (traffic, name) in [
        (Traffic::Tcp, "xray-vision-tcp"),
        (Traffic::Udp, "xray-vision-udp"),
    ] {
        let result = async {
            let got = xray_reality_vision(traffic).await?;
            save("vless_request", name, &got)?;
            let header = vless_header_len(&got).ok_or("not a VLESS request")?;
            let rest = &got[header..];
            save("vless_vision", name, &[&[5u8][..], rest].concat())?;
            // Vision's first frame carries the id; the Mux stream is its content.
            if let Some(content) = vision_content(rest) {
                if got[18 + usize::from(got[17])] == 3 {
                    save("vless_mux", name, &content)?;
                    save("vless_xudp", name, &[&[3u8][..], &content].concat())?;
                }
            }
            Ok(())
        };
        report(name, result.await).await;
    }

    // What applications send to a SOCKS5 inbound.
    for (scheme, url, name) in [
        ("socks5h", "http://example.com/", "curl-socks5h"),
        ("socks5", "http://127.0.0.1:9/", "curl-socks5"),
        ("socks5", "http://[::1]:9/", "curl-socks5-ipv6"),
    ] {
        let result = async {
            let got = curl_socks(scheme, url).await?;
            save("client_socks", name, &[&[255u8][..], &got].concat())?;
            Ok(())
        };
        report(name, result.await).await;
    }
    Ok(())
}
