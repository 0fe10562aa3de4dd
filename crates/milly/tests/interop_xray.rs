//! REALITY and XTLS Vision against the real Xray-core (PyPI's Xray-core wheel through
//! `.ci/xray`), the implementation whose wire format we follow, both ways:
//! Xray's client (uTLS Chrome hello, REALITY, Vision, XUDP) imports the link `milly user add`
//! prints and reaches destinations through `milly serve`; `milly client` reaches destinations
//! through Xray's REALITY server. A local `openssl s_server -tls1_3` plays `dest`. Both ways
//! also with the optional ML-DSA-65 certificate signature (`mldsa65Seed` / `pqv`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use client::{ClientLink, Security};
use testkit::interop;
use testkit::milly::ListeningClient;
use testkit::singbox::ClientOptions;
use testkit::tls_site::fetch_page;
use testkit::traffic;
use testkit::xray::{self, RealityServer};
use testkit::{
    free_tcp_addr, user_uuid, EchoMode, MillyHome, Peer, PeerKind, Process, TcpEcho, TlsSite,
    UdpEcho,
};

const NAME: &str = "www.example.com";
const SHORT_ID: &str = "6ba85179e30d4fc2";
const MIB: usize = 1024 * 1024;
const ADMIT_DEADLINE: Duration = Duration::from_secs(15);
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// `milly serve` as a REALITY node in front of `dest` with the private key `[key; 32]`;
/// `extra` lines go into `[node.reality]`.
async fn reality_node(key: u8, dest: &TlsSite, extra: &str) -> (MillyHome, Process) {
    let private = reality::encode_key(&[key; 32]);
    let config = testkit::milly::reality_config(&private, SHORT_ID, NAME, dest.addr());
    let home = MillyHome::new(&format!("{config}{extra}")).unwrap();
    let serve = home.serve().await.unwrap();
    (home, serve)
}

/// Retries a small echo through the client's SOCKS port until the node lets the user in (it
/// learns of users through its feed a moment after `milly user add` returns).
async fn wait_until_proxied(socks: SocketAddr, echo: SocketAddr, log: impl Fn() -> String) {
    traffic::wait_until_through(socks, echo, ADMIT_DEADLINE)
        .await
        .unwrap_or_else(|e| panic!("nothing got through ({e}); client log:\n{}", log()));
}

/// Xray's client for `link`, once it has carried `connections` echoes of `size` bytes each,
/// byte-exact, through the node (after waiting for the node to admit the user). `node_log`
/// goes into the failure message.
async fn xray_carries(
    bin: &std::path::Path,
    link: &ClientLink,
    options: &ClientOptions,
    echo: SocketAddr,
    (connections, size): (usize, usize),
    node_log: impl Fn() -> String,
) -> Peer {
    let client = Peer::client(PeerKind::Xray, bin, link, options)
        .await
        .unwrap();
    let logs = || format!("xray log:\n{}\nnode log:\n{}", client.log(), node_log());
    wait_until_proxied(client.addr(), echo, logs).await;
    traffic::tcp_roundtrips(client.addr(), echo, connections, size)
        .await
        .unwrap_or_else(|e| panic!("{e}; {}", logs()));
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xray_imports_milly_reality_link_and_carries_tcp_inner_tls_and_xudp() {
    let Some(bin) = PeerKind::Xray.require() else {
        return;
    };
    let dest = TlsSite::start(NAME);
    let (home, serve) = reality_node(0x53, &dest, "").await;
    let link = home.add_user(5001, 30).unwrap();
    assert!(link.vision, "the link asks for Vision");
    assert_eq!(link.fingerprint.as_deref(), Some("chrome"));

    // A forward through the node to dest itself: TLS 1.3 inside, so Vision goes direct.
    let forward = free_tcp_addr();
    let options = ClientOptions {
        forwards: vec![(forward, dest.addr())],
        ..Default::default()
    };
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let client = xray_carries(&bin, &link, &options, echo.addr(), (6, MIB), || serve.log()).await;

    let page = fetch_page(forward, NAME).await;
    assert!(page.contains(&format!("subject=CN = {NAME}")), "{page}");
    assert!(
        page.contains("s_server"),
        "dest's page through the tunnel: {page}\nxray log:\n{}",
        client.log()
    );

    let udp = UdpEcho::start().await.unwrap();
    traffic::udp_roundtrips(
        client.addr(),
        udp.addr(),
        &traffic::udp_sizes_for(PeerKind::Xray),
    )
    .await
    .unwrap_or_else(|e| {
        panic!(
            "{e}; xray log:\n{}\nnode log:\n{}",
            client.log(),
            serve.log()
        )
    });

    let log = serve.log();
    assert!(
        !log.contains(&user_uuid(&link)),
        "serve printed the user id"
    );
}

/// Over ordinary TLS (the default self-signed node) Xray's Vision flow is carried too: the
/// node's TLS 1.3 connections run on the record layer REALITY uses, which can go direct. TCP
/// echoes, and a TLS 1.3 site behind the node whose records Vision copies directly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xray_vision_over_tls_carries_tcp_and_inner_tls() {
    let Some(bin) = PeerKind::Xray.require() else {
        return;
    };
    let dest = TlsSite::start(NAME);
    let home = MillyHome::new("").unwrap();
    let serve = home.serve().await.unwrap();
    let mut link = home.add_user(5101, 30).unwrap();
    assert!(matches!(link.security, Security::Tls { .. }), "{link:?}");
    link.vision = true;
    let forward = free_tcp_addr();
    // Xray refuses Vision with `allowInsecure`: it verifies the node's self-signed certificate.
    let options = xray::ClientOptions {
        forwards: vec![(forward, dest.addr())],
        trusted_certificate: Some(home.dir().join("milly-data/node-cert.pem")),
        ..Default::default()
    };
    let socks = free_tcp_addr();
    let config = xray::client_config_with(&link, socks, &options);
    let client = Peer::start(PeerKind::Xray, &bin, &config, socks)
        .await
        .unwrap();
    let logs = || format!("xray log:\n{}\nnode log:\n{}", client.log(), serve.log());
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    wait_until_proxied(client.addr(), echo.addr(), logs).await;
    traffic::tcp_roundtrips(client.addr(), echo.addr(), 4, MIB)
        .await
        .unwrap_or_else(|e| panic!("{e}; {}", logs()));
    let page = fetch_page(forward, NAME).await;
    assert!(
        page.contains("s_server"),
        "dest's page through the tunnel: {page}\n{}",
        logs()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xray_with_a_wrong_key_or_short_id_gets_nothing_through_and_probers_see_dest() {
    let Some(bin) = PeerKind::Xray.require() else {
        return;
    };
    let dest = TlsSite::start(NAME);
    let (home, _serve) = reality_node(0x54, &dest, "").await;
    let link = home.add_user(5002, 30).unwrap();
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    // The right link works (so the failures below are about the changed parameter).
    let good = interop::client(PeerKind::Xray, &bin, &link).await;
    wait_until_proxied(good.addr(), echo.addr(), || good.log()).await;

    let wrong_key = reality::encode_key(&reality::public_key(&[0x55; 32]));
    let Security::Reality { public_key, .. } = &link.security else {
        panic!("not a REALITY link")
    };
    let raw_wrong_key = format!(
        "vless://{}@{}:{}?type=tcp&encryption=none&security=reality&pbk={wrong_key}&sid={SHORT_ID}&sni={NAME}&fp=chrome&flow=xtls-rprx-vision",
        user_uuid(&link), link.host, link.port
    );
    let raw_wrong_sid = format!(
        "vless://{}@{}:{}?type=tcp&encryption=none&security=reality&pbk={public_key}&sid=0011223344556677&sni={NAME}&fp=chrome&flow=xtls-rprx-vision",
        user_uuid(&link), link.host, link.port
    );
    for raw in [raw_wrong_key, raw_wrong_sid] {
        let bad_link = ClientLink::parse(&raw).unwrap();
        let bad = interop::client(PeerKind::Xray, &bin, &bad_link).await;
        let got = traffic::tcp_roundtrip(bad.addr(), echo.addr(), b"ping").await;
        assert!(got.is_err(), "{raw} got through");
    }

    let page = fetch_page(home.node_addr(), NAME).await;
    assert!(page.contains(&format!("subject=CN = {NAME}")), "{page}");
    assert!(page.contains("s_server"), "dest's page: {page}");
}

/// `milly client` for `link` in `dir` with a SOCKS5 port and a forward to each of `targets`.
async fn milly_client(
    link: &str,
    targets: &[SocketAddr],
    dir: &std::path::Path,
) -> ListeningClient {
    testkit::milly::client_on_free_ports(dir, link, targets)
        .await
        .unwrap()
}

/// What `milly client` and Xray's server logged, for a failure message.
fn logs(client: &ListeningClient, xray: &Peer) -> String {
    format!(
        "milly client:\n{}\nxray:\n{}",
        client.process.log(),
        xray.log()
    )
}

/// Xray's REALITY + Vision server in front of `dest` with the private key `[key; 32]` (and an
/// ML-DSA-65 seed if given), and a function giving the link for it with `extra` query
/// parameters (e.g. `&pqv=...`) after the short id.
async fn xray_reality_server(
    bin: &std::path::Path,
    dest: &TlsSite,
    key: u8,
    mldsa65_seed: Option<[u8; 32]>,
) -> (Peer, impl Fn(&str) -> String) {
    let private = [key; 32];
    let user = "3f6c1a8e-5b2d-4c7e-9a10-2b3c4d5e6f70";
    let server = RealityServer {
        listen: free_tcp_addr(),
        dest: dest.addr(),
        server_names: vec![NAME.into()],
        private_key: reality::encode_key(&private),
        short_ids: vec![SHORT_ID.into()],
        mldsa65_seed: mldsa65_seed.map(|seed| reality::encode_key(&seed)),
    };
    let config = xray::reality_server_config(&server, &[user]);
    let xray = Peer::start(PeerKind::Xray, bin, &config, server.listen)
        .await
        .unwrap();
    let (host, port) = (server.listen.ip(), server.listen.port());
    let pbk = reality::encode_key(&reality::public_key(&private));
    let link_with = move |extra: &str| {
        format!(
            "vless://{user}@{host}:{port}?type=tcp&encryption=none&security=reality&pbk={pbk}\
             &sid={SHORT_ID}{extra}&sni={NAME}&fp=chrome&flow=xtls-rprx-vision#xray"
        )
    };
    (xray, link_with)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn milly_client_speaks_reality_and_vision_to_an_xray_server() {
    let Some(bin) = PeerKind::Xray.require() else {
        return;
    };
    let dest = TlsSite::start(NAME);
    let (xray, link_with) = xray_reality_server(&bin, &dest, 0x56, None).await;
    let link = link_with("");
    let dir = tempfile::tempdir().unwrap();
    let client = milly_client(&link, &[dest.addr()], dir.path()).await;

    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    traffic::tcp_roundtrips(client.socks, echo.addr(), 6, MIB)
        .await
        .unwrap_or_else(|e| panic!("{e}; {}", logs(&client, &xray)));

    let page = fetch_page(client.forwards[0], NAME).await;
    assert!(
        page.contains("s_server"),
        "dest's page through Xray: {page}\n{}",
        logs(&client, &xray)
    );
}

/// Users pick the imitated browser in their app; every uTLS fingerprint Xray offers must pass
/// milly's REALITY check (their ClientHellos differ in extensions, groups and key shares).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_xray_fingerprint_authenticates_at_milly_node() {
    let Some(bin) = PeerKind::Xray.require() else {
        return;
    };
    let dest = TlsSite::start(NAME);
    let (home, _serve) = reality_node(0x57, &dest, "").await;
    let link = home.add_user(5003, 30).unwrap();
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    // Not "android" nor "360": Xray refuses them for REALITY itself (no TLS 1.3 in those hellos).
    for fingerprint in ["chrome", "firefox", "safari", "ios", "edge", "qq"] {
        let mut imported = link.clone();
        imported.fingerprint = Some(fingerprint.into());
        let size = (2, 256 * 1024);
        xray_carries(
            &bin,
            &imported,
            &Default::default(),
            echo.addr(),
            size,
            || format!("(fingerprint {fingerprint})"),
        )
        .await;
    }
}

/// The ML-DSA-65 public key of `seed`, as `milly keygen reality` prints it and links carry it.
fn mldsa65_verify(seed: [u8; 32]) -> String {
    reality::Mldsa65SigningKey::from_seed(&seed)
        .public_key()
        .encode()
}

/// `link` with its `pqv` replaced (or removed).
fn with_pqv(link: &ClientLink, pqv: Option<String>) -> ClientLink {
    let mut link = link.clone();
    let Security::Reality { mldsa65_verify, .. } = &mut link.security else {
        panic!("not a REALITY link")
    };
    *mldsa65_verify = pqv;
    link
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xray_checks_the_mldsa65_signature_of_a_milly_node_against_the_links_pqv() {
    let Some(bin) = PeerKind::Xray.require() else {
        return;
    };
    let dest = TlsSite::start(NAME);
    let seed = [0x61; 32];
    let extra = format!("mldsa65_seed = \"{}\"\n", reality::encode_key(&seed));
    let (home, serve) = reality_node(0x58, &dest, &extra).await;
    let link = home.add_user(5004, 30).unwrap();
    let Security::Reality {
        mldsa65_verify: pqv,
        ..
    } = &link.security
    else {
        panic!("not a REALITY link")
    };
    assert_eq!(pqv.as_deref(), Some(mldsa65_verify(seed).as_str()));

    // Xray's client with mldsa65Verify from the link: the signature over this handshake
    // verifies, and bytes flow.
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let options = ClientOptions::default();
    xray_carries(&bin, &link, &options, echo.addr(), (4, MIB), || serve.log()).await;

    // Without pqv the larger certificate is still accepted (the check is the client's choice).
    let unchecked = interop::client(PeerKind::Xray, &bin, &with_pqv(&link, None)).await;
    wait_until_proxied(unchecked.addr(), echo.addr(), || unchecked.log()).await;

    // Another node's ML-DSA-65 key: Xray refuses the certificate and nothing gets through.
    let wrong = with_pqv(&link, Some(mldsa65_verify([0x62; 32])));
    let bad = interop::client(PeerKind::Xray, &bin, &wrong).await;
    for _ in 0..3 {
        let got = traffic::tcp_roundtrip(bad.addr(), echo.addr(), b"ping").await;
        assert!(
            got.is_err(),
            "a wrong pqv got through; xray log:\n{}",
            bad.log()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn milly_client_checks_an_xray_servers_mldsa65_signature_against_pqv() {
    let Some(bin) = PeerKind::Xray.require() else {
        return;
    };
    // Xray's server fits its records into dest's lengths: the 3.5 KB certificate needs a
    // dest whose certificate is at least as large, as real sites' chains are.
    let dest = TlsSite::start_with_large_certificate(NAME);
    let seed = [0x63; 32];
    let (xray, link_with) = xray_reality_server(&bin, &dest, 0x59, Some(seed)).await;
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let dir = tempfile::tempdir().unwrap();

    // The right key (Xray derives it from the seed with circl): the handshake completes.
    let good = link_with(&format!("&pqv={}", mldsa65_verify(seed)));
    let client = milly_client(&good, &[], dir.path()).await;
    traffic::tcp_roundtrips(client.socks, echo.addr(), 4, MIB)
        .await
        .unwrap_or_else(|e| panic!("{e}; {}", logs(&client, &xray)));

    // No pqv: the extension-carrying certificate still passes the HMAC check.
    let plain = milly_client(&link_with(""), &[], dir.path()).await;
    traffic::tcp_roundtrip(plain.socks, echo.addr(), b"ping")
        .await
        .unwrap_or_else(|e| panic!("{e}; {}", logs(&plain, &xray)));

    // Another key: milly client refuses the server and says why.
    let wrong = link_with(&format!("&pqv={}", mldsa65_verify([0x64; 32])));
    let refusing = milly_client(&wrong, &[], dir.path()).await;
    let got = traffic::tcp_roundtrip(refusing.socks, echo.addr(), b"ping").await;
    assert!(got.is_err(), "a wrong pqv got through");
    let start = Instant::now();
    while !refusing.process.log().contains("ML-DSA-65") {
        assert!(
            start.elapsed() < START_TIMEOUT,
            "milly client did not name the failed check; log:\n{}",
            refusing.process.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
