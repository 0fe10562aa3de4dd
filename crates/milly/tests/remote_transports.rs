//! A remote TLS node's HTTP transports, with the real binaries on both sides: `milly node add
//! --security tls --transports tcp,ws` prints a join string, `milly user show` lists one link
//! per transport with the node's secret path, and sing-box built from the ws link carries TCP
//! through the node (`milly node run`), which got the path over its control link. `node set
//! transports=tcp` takes the ws link out of the next `user show` and the node stops serving
//! WebSocket; a REALITY node is refused ws with a message naming TLS, and given XHTTP and
//! gRPC links.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use client::{ClientLink, LinkTransport};
use testkit::milly::remote::{self, printed_links, run_node};
use testkit::{free_port, socks, traffic, EchoMode, MillyHome, Peer, PeerKind, TcpEcho};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const DEADLINE: Duration = Duration::from_secs(15);

/// The user's links to the node on `port`, as `milly user show` prints them.
fn links_to(home: &MillyHome, telegram_id: i64, port: u16) -> Vec<ClientLink> {
    printed_links(home, telegram_id)
        .iter()
        .map(|l| ClientLink::parse(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .filter(|link| link.port == port)
        .collect()
}

/// `payload` through the SOCKS port `proxy` to the echo at `echo` and back, compared. The
/// echo is read back in full before closing: no client carries a half-close over WebSocket.
async fn roundtrip(proxy: SocketAddr, echo: SocketAddr, payload: &[u8]) -> bool {
    let attempt = async {
        let stream = socks::connect(proxy, echo).await.ok()?;
        let (mut r, mut w) = stream.into_split();
        let sent = payload.to_vec();
        let writer = tokio::spawn(async move {
            for chunk in sent.chunks(16 * 1024) {
                w.write_all(chunk).await.ok()?;
            }
            Some(w)
        });
        let mut got = vec![0u8; payload.len()];
        r.read_exact(&mut got).await.ok()?;
        drop(writer.await.ok()?);
        Some(got == payload)
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(10), attempt).await,
        Ok(Some(true))
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sing_box_carries_tcp_over_ws_through_a_remote_tls_node_and_node_set_takes_ws_away() {
    let Some(sing_box) = PeerKind::SingBox.require() else {
        return;
    };
    let control_port = free_port();
    let node_port = free_port();
    let home = MillyHome::new(&format!(
        "[control]\nlisten = \"127.0.0.1:{control_port}\"\n"
    ))
    .unwrap();
    let _serve = home.serve().await.unwrap();
    let work = tempfile::tempdir().unwrap();

    // REALITY carries no WebSocket (only tcp, xhttp, grpc): refused before anything is stored.
    let reality = home
        .run(&[
            "node",
            "add",
            "nl-1",
            "--address",
            "127.0.0.1:9",
            "--transports",
            "tcp,ws",
        ])
        .unwrap_err()
        .to_string();
    assert!(reality.contains("--security tls"), "{reality}");

    let join_string = remote::add_node(
        &home,
        "de-ws",
        node_port,
        "🇩🇪 Frankfurt",
        &["--security", "tls", "--transports", "tcp,ws"],
    );
    let config = remote::join(work.path(), "node", &join_string, true);
    let mut node = run_node(work.path(), &config, "node-ws");
    node.wait_for_tcp(
        SocketAddr::from(([127, 0, 0, 1], node_port)),
        Duration::from_secs(20),
    )
    .await
    .unwrap();

    let shown = home.run(&["node", "show", "de-ws"]).unwrap();
    assert!(shown.contains("transports:   tcp, ws"), "{shown}");
    home.add_user(4001, 30).unwrap();
    let links = links_to(&home, 4001, node_port);
    let names: Vec<&str> = links.iter().map(|l| l.transport.name()).collect();
    assert_eq!(names, ["tcp", "ws"], "{links:?}");
    let ws = &links[1];
    let LinkTransport::Ws { path, .. } = &ws.transport else {
        panic!("{ws:?}")
    };
    // A secret path made for this node, not a fixed one.
    assert!(path.ends_with("/ws") && path.len() > 20, "{path}");

    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let client = Peer::client(PeerKind::SingBox, &sing_box, ws, &Default::default())
        .await
        .unwrap();
    // The user's access and the node's ws path reach it within a moment.
    let start = Instant::now();
    while !roundtrip(client.addr(), echo.addr(), b"ping").await {
        assert!(
            start.elapsed() < DEADLINE,
            "sing-box never got through over ws:\nclient:\n{}\nnode:\n{}",
            client.log(),
            node.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let payload = traffic::random_bytes(512 * 1024);
    assert!(
        roundtrip(client.addr(), echo.addr(), &payload).await,
        "512 KiB over ws"
    );

    // Back to tcp alone: the ws link is gone from the next `user show`, and the node, told
    // over its control link, no longer serves WebSocket at that path.
    home.run(&["node", "set", "de-ws", "transports=tcp"])
        .unwrap();
    let links = links_to(&home, 4001, node_port);
    let names: Vec<&str> = links.iter().map(|l| l.transport.name()).collect();
    assert_eq!(names, ["tcp"], "{links:?}");
    let start = Instant::now();
    loop {
        let fresh = Peer::client(PeerKind::SingBox, &sing_box, ws, &Default::default())
            .await
            .unwrap();
        if !roundtrip(fresh.addr(), echo.addr(), b"ping").await {
            break;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "the node still serves ws after transports=tcp:\n{}",
            node.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The node is up and still carries the user over tcp: only WebSocket went.
    let tcp = Peer::client(PeerKind::SingBox, &sing_box, &links[0], &Default::default())
        .await
        .unwrap();
    let start = Instant::now();
    while !roundtrip(tcp.addr(), echo.addr(), b"ping").await {
        assert!(
            start.elapsed() < DEADLINE,
            "sing-box never got through over tcp:\n{}",
            node.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let log = node.log();
    assert!(
        !log.contains(path.as_str()),
        "the node's log names its path"
    );
}

/// A REALITY node takes XHTTP and gRPC: `node add --transports` keeps them (nothing here runs
/// the node), `user show` prints their links as v2rayNG spells them, Vision only on the tcp
/// one, and `node set` refuses WebSocket on it and drops the HTTP ones again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reality_node_is_given_xhttp_and_grpc_links_and_refused_ws() {
    let control_port = free_port();
    let node_port = free_port();
    let home = MillyHome::new(&format!(
        "[control]\nlisten = \"127.0.0.1:{control_port}\"\n"
    ))
    .unwrap();
    let _serve = home.serve().await.unwrap();
    remote::add_node(
        &home,
        "nl-xh",
        node_port,
        "🇳🇱 Amsterdam",
        &["--transports", "xhttp,tcp,grpc"],
    );
    let shown = home.run(&["node", "show", "nl-xh"]).unwrap();
    assert!(shown.contains("transports:   xhttp, tcp, grpc"), "{shown}");
    home.add_user(4002, 30).unwrap();
    let printed: Vec<String> = remote::printed_links(&home, 4002)
        .into_iter()
        .filter(|l| l.contains(&format!(":{node_port}?")))
        .collect();
    assert_eq!(printed.len(), 3, "{printed:?}");
    assert!(printed[0].contains("&mode=auto&"), "{}", printed[0]);
    assert!(printed[0].ends_with("%20%C2%B7%20XHTTP"), "{}", printed[0]);
    assert!(printed[2].contains("&mode=gun&"), "{}", printed[2]);
    let links = links_to(&home, 4002, node_port);
    let LinkTransport::Xhttp { path, .. } = &links[0].transport else {
        panic!("{:?}", links[0])
    };
    let LinkTransport::Grpc { service_name } = &links[2].transport else {
        panic!("{:?}", links[2])
    };
    // One secret made for the node: the path's segment is the service name's.
    let secret = path.strip_prefix('/').and_then(|p| p.strip_suffix("/xh"));
    assert_eq!(
        secret.map(|s| format!("{s}.grpc")).as_ref(),
        Some(service_name)
    );
    assert!(service_name.len() > 20 && !service_name.contains('/'));
    let visions: Vec<bool> = links.iter().map(|l| l.vision).collect();
    assert_eq!(visions, [false, true, false]);

    let refused = home
        .run(&["node", "set", "nl-xh", "transports=tcp,ws"])
        .unwrap_err()
        .to_string();
    assert!(refused.contains("--security tls"), "{refused}");
    home.run(&["node", "set", "nl-xh", "transports=tcp"])
        .unwrap();
    let links = links_to(&home, 4002, node_port);
    assert_eq!(links.len(), 1, "{links:?}");
    assert!(links[0].vision);
}

/// A remote REALITY node serving XHTTP and gRPC, with `[node.http] listen` in its node.toml:
/// Xray built from the links `milly user show` prints carries TCP over XHTTP (packet-up and
/// stream-one) and gRPC through REALITY, and over both in plain HTTP to the node's plain
/// listener, as a reverse proxy in front would.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xray_carries_tcp_over_xhttp_and_grpc_through_a_remote_reality_node_and_its_plain_listener()
{
    let Some(xray) = PeerKind::Xray.require() else {
        return;
    };
    const NAME: &str = "www.example.com";
    let control_port = free_port();
    let node_port = free_port();
    let plain = testkit::free_tcp_addr();
    let home = MillyHome::new(&format!(
        "[control]\nlisten = \"127.0.0.1:{control_port}\"\n"
    ))
    .unwrap();
    let _serve = home.serve().await.unwrap();
    let work = tempfile::tempdir().unwrap();
    let dest = testkit::TlsSite::start(NAME);
    let dest_addr = dest.addr().to_string();
    let join_string = remote::add_node(
        &home,
        "nl-h2",
        node_port,
        "🇳🇱 Amsterdam",
        &[
            "--dest",
            &dest_addr,
            "--server-name",
            NAME,
            "--transports",
            "tcp,xhttp,grpc",
        ],
    );
    let config = remote::join(work.path(), "node", &join_string, true);
    let text = std::fs::read_to_string(&config).unwrap();
    let commented = "# [node.http]\n# listen = \"127.0.0.1:10080\"";
    assert!(text.contains(commented), "{text}");
    let text = text.replace(commented, &format!("[node.http]\nlisten = \"{plain}\""));
    std::fs::write(&config, text).unwrap();
    let mut node = run_node(work.path(), &config, "node-h2");
    for addr in [SocketAddr::from(([127, 0, 0, 1], node_port)), plain] {
        node.wait_for_tcp(addr, Duration::from_secs(20))
            .await
            .unwrap();
    }
    home.add_user(4003, 30).unwrap();
    let links = links_to(&home, 4003, node_port);
    let names: Vec<&str> = links.iter().map(|l| l.transport.name()).collect();
    assert_eq!(names, ["tcp", "xhttp", "grpc"], "{links:?}");

    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let runs = [
        (&links[1], Some(client::XhttpMode::PacketUp)),
        (&links[1], Some(client::XhttpMode::StreamOne)),
        (&links[2], None),
    ];
    for plain_http in [false, true] {
        for (link, mode) in runs {
            let socks_addr = testkit::free_tcp_addr();
            let options = testkit::xray::ClientOptions {
                xhttp_mode: mode,
                ..Default::default()
            };
            let mut json = testkit::xray::client_config_with(link, socks_addr, &options);
            if plain_http {
                // What a proxy in front would send on: the same transport, no TLS, to the
                // plain listener.
                let out = &mut json["outbounds"][0];
                out["settings"]["vnext"][0]["port"] = plain.port().into();
                let stream = out["streamSettings"].as_object_mut().unwrap();
                stream.insert("security".into(), "none".into());
                stream.remove("realitySettings");
            }
            let client = Peer::start(PeerKind::Xray, &xray, &json, socks_addr)
                .await
                .unwrap();
            let what = format!("{} {mode:?} plain={plain_http}", link.transport.name());
            traffic::wait_through_kept_open(client.addr(), echo.addr(), DEADLINE, || {
                format!(
                    "{what}: Xray\nclient:\n{}\nnode:\n{}",
                    client.log(),
                    node.log()
                )
            })
            .await;
            let payload = traffic::random_bytes(256 * 1024);
            assert!(
                roundtrip(client.addr(), echo.addr(), &payload).await,
                "{what}: 256 KiB"
            );
        }
    }
    let log = node.log();
    let LinkTransport::Xhttp { path, .. } = &links[1].transport else {
        panic!("{:?}", links[1])
    };
    assert!(
        !log.contains(path.as_str()),
        "the node's log names its path"
    );
}
