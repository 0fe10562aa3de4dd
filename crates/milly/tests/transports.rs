//! The HTTP transports on the node's TLS port, against the real clients that speak them:
//! `milly serve` with `MILLY_NODE__TRANSPORTS='["tcp","ws","httpupgrade"]'` prints one link
//! per transport; Xray-core (ws with early data, httpupgrade), sing-box (ws with early data,
//! httpupgrade) and v2ray 4.34 (ws) built from those links carry TCP byte for byte, several
//! connections at once, and UDP. A prober asking for the transports' paths gets the website, a
//! wrong user id gets nothing through, and the node's log names no path, Host or user.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::path::Path;
use std::time::Duration;

use client::{ClientLink, LinkTransport};
use serde_json::json;
use testkit::singbox::ClientOptions;
use testkit::xray;
use testkit::{
    interop, probe, traffic, user_uuid, with_user, EchoMode, MillyHome, Peer, PeerKind, Process,
    TcpEcho, UdpEcho,
};

/// The secret prefix, and a server name that appears nowhere but in the clients' Host headers.
const PATH: &str = "/t3st-pr3fix";
const HOST: &str = "transports.example";
const ADMIT_DEADLINE: Duration = Duration::from_secs(15);
const START_TIMEOUT: Duration = Duration::from_secs(20);
const PROBE_WAIT: Duration = Duration::from_secs(3);
const MIB: usize = 1024 * 1024;

fn env() -> Vec<(&'static str, String)> {
    vec![
        (
            "MILLY_NODE__TRANSPORTS",
            r#"["tcp","ws","httpupgrade"]"#.to_owned(),
        ),
        ("MILLY_NODE__HTTP__PATH", PATH.to_owned()),
    ]
}

/// `milly serve` with the three transports, and the home it runs in.
async fn serve() -> (MillyHome, Process) {
    let home = MillyHome::new(&format!("[node.tls]\nserver_name = \"{HOST}\"\n")).unwrap();
    let mut cmd = home.command(&["serve"]);
    cmd.envs(env());
    let mut serve = Process::start("milly-serve", cmd, home.dir()).unwrap();
    serve
        .wait_for_tcp(home.node_addr(), START_TIMEOUT)
        .await
        .unwrap();
    (home, serve)
}

/// `milly user add` with the same environment: every link it printed.
fn add_user(home: &MillyHome, telegram_id: i64) -> Vec<ClientLink> {
    let mut cmd = home.command(&[
        "user",
        "add",
        "--telegram-id",
        &telegram_id.to_string(),
        "--days",
        "30",
    ]);
    cmd.envs(env());
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("vless://"))
        .map(|l| ClientLink::parse(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

/// The link for transport `name` among `links`.
fn link_for<'a>(links: &'a [ClientLink], name: &str) -> &'a ClientLink {
    links
        .iter()
        .find(|l| l.transport.name() == name)
        .unwrap_or_else(|| panic!("no {name} link among {links:?}"))
}

/// A `kind` client for `link` as an app imports it. Xray 26 refuses `allowInsecure`, so its
/// client is told to trust the node's self-signed certificate (from milly's data directory)
/// instead, as an operator would pin it.
async fn client(kind: PeerKind, bin: &Path, link: &ClientLink, home: &MillyHome) -> Peer {
    if kind != PeerKind::Xray {
        return Peer::client(kind, bin, link, &ClientOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{} {}: {e}", kind.name(), link.transport.name()));
    }
    let socks = testkit::free_tcp_addr();
    let mut config = xray::client_config(link, socks, &[], false);
    let tls = &mut config["outbounds"][0]["streamSettings"]["tlsSettings"];
    tls.as_object_mut().unwrap().remove("allowInsecure");
    let cert = home.dir().join("milly-data/node-cert.pem");
    tls["certificates"] = json!([{ "usage": "verify", "certificateFile": cert }]);
    Peer::start(kind, bin, &config, socks).await.unwrap()
}

/// Every check one client kind passes over one transport.
async fn carries(kind: PeerKind, bin: &Path, link: &ClientLink, home: &MillyHome, serve: &Process) {
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let client = client(kind, bin, link, home).await;
    let what = format!("{} over {}", kind.name(), link.transport.name());
    traffic::wait_through_kept_open(client.addr(), echo.addr(), ADMIT_DEADLINE, || {
        format!("{what}\nclient:\n{}\nnode:\n{}", client.log(), serve.log())
    })
    .await;
    traffic::roundtrips_kept_open(client.addr(), echo.addr(), 4, MIB, &what).await;
    assert!(
        echo.accepted() >= 4,
        "{what}: the echo saw too few connections"
    );
    // Datagrams of every size, as each client carries UDP (XUDP or plain VLESS UDP).
    let udp = UdpEcho::start().await.unwrap();
    traffic::udp_roundtrips(client.addr(), udp.addr(), &traffic::udp_sizes_for(kind))
        .await
        .unwrap_or_else(|e| panic!("{what} UDP: {e}\nclient:\n{}", client.log()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xray_sing_box_and_v2ray_carry_tcp_and_udp_over_ws_and_httpupgrade() {
    let (home, serve) = serve().await;
    let links = add_user(&home, 7001);
    assert_eq!(
        links.iter().map(|l| l.transport.name()).collect::<Vec<_>>(),
        ["tcp", "ws", "httpupgrade"]
    );
    let ws = link_for(&links, "ws");
    let up = link_for(&links, "httpupgrade");
    assert_eq!(
        ws.transport,
        LinkTransport::Ws {
            path: format!("{PATH}/ws"),
            host: Some(HOST.into()),
            early_data: 2048
        }
    );
    let mut ran = 0;
    for (kind, transports) in [
        (PeerKind::Xray, vec![ws, up]),
        (PeerKind::SingBox, vec![ws, up]),
        (PeerKind::V2Ray, vec![ws]),
    ] {
        let Some(bin) = kind.require() else {
            continue;
        };
        for link in transports {
            carries(kind, &bin, link, &home, &serve).await;
            ran += 1;
        }
    }
    if ran > 0 {
        let log = serve.log();
        assert!(!log.contains(PATH), "the node's log names the path");
        assert!(!log.contains(HOST), "the node's log names the Host");
        assert!(!log.contains(&user_uuid(ws)), "the node's log names a user");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prober_of_the_paths_gets_the_website_and_a_wrong_id_gets_nothing_through() {
    let (home, serve) = serve().await;
    let links = add_user(&home, 7002);
    // Plain GETs of the transports' paths and of the prefix, and upgrades that are not a
    // transport's (another path; WebSocket without its key): each answered as the website
    // answers it directly. (A complete HTTPUpgrade request to its path gets its 101, as from
    // Xray's server: the secret path is what keeps probers out, docs/transports.md.)
    let upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n";
    for (path, upgrade) in [
        (format!("{PATH}/ws"), ""),
        (format!("{PATH}/up"), ""),
        (PATH.to_owned(), ""),
        (format!("{PATH}/ws"), upgrade),
        (PATH.to_owned(), upgrade),
        (format!("{PATH}/wss"), upgrade),
        (format!("{PATH}/up/"), upgrade),
    ] {
        {
            let get = format!(
                "GET {path} HTTP/1.1\r\nHost: {HOST}\r\n{upgrade}Connection: close\r\n\r\n"
            );
            let direct = probe::tcp(home.web_addr(), get.as_bytes(), PROBE_WAIT)
                .await
                .unwrap();
            let via_node = probe::tls(home.node_addr(), HOST, get.as_bytes(), PROBE_WAIT)
                .await
                .unwrap();
            assert!(probe::status_line(&direct).is_some(), "{get}");
            assert_eq!(
                probe::status_line(&via_node),
                probe::status_line(&direct),
                "{get}"
            );
        }
    }
    // An upgrade with a wrong id reaches nothing, over each transport and each client.
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    for (kind, names) in [
        (PeerKind::Xray, &["ws", "httpupgrade"][..]),
        (PeerKind::SingBox, &["ws", "httpupgrade"][..]),
    ] {
        let Some(bin) = kind.require() else {
            continue;
        };
        for name in names {
            let stranger = with_user(link_for(&links, name), interop::STRANGER);
            let peer = client(kind, &bin, &stranger, &home).await;
            interop::stranger_reaches_nothing(&peer, &echo).await;
        }
    }
    drop(serve);
}
