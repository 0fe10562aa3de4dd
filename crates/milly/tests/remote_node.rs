//! A remote node with the real binary: `milly node join` against a control plane's feed endpoint, then `milly node run` serving exactly the users the feed sends, losing a revoked one, and serving from its cache after a restart while the control plane is down.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{SocketAddr, SocketAddrV4};
use std::path::Path;
use std::time::{Duration, Instant};

use feed_wire::{NodeSettings, SecuritySettings, ToControl, ToNode, WireEntry};
use testkit::feed_control::{Conn, FakeControl};
use testkit::milly::cli;
use testkit::{free_port, EchoMode, Process, TcpEcho};

const EPOCH: [u8; 16] = [0x0e; 16];
const ALICE: [u8; 16] = [0xa1; 16];
const BOB: [u8; 16] = [0xb0; 16];
const STRANGER: [u8; 16] = [0x5e; 16];

fn entry(key: [u8; 16]) -> WireEntry {
    WireEntry {
        key,
        expires_at: i64::MAX,
    }
}

/// TLS settings with a certificate for `localhost` made for this test.
fn tls_settings(port: u16) -> NodeSettings {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    NodeSettings {
        port,
        security: SecuritySettings::Tls {
            certificate_pem: made.cert.pem(),
            private_key_pem: made.key_pair.serialize_pem(),
        },
    }
}

/// Whether the node at `node` relays `user` to the echo server (a VLESS request over TLS).
async fn admits(node: SocketAddr, user: [u8; 16], echo: SocketAddrV4) -> bool {
    testkit::probe::vless_admits(node, "localhost", &user, echo, Duration::from_secs(2))
        .await
        .unwrap()
}

async fn eventually(node: SocketAddr, user: [u8; 16], echo: SocketAddrV4, wanted: bool) {
    let start = Instant::now();
    while admits(node, user, echo).await != wanted {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the node never {} the user",
            if wanted { "admitted" } else { "refused" }
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn start_node(dir: &Path, config: &Path, name: &str) -> Process {
    let args = ["node", "run", "--config", config.to_str().unwrap()];
    Process::start(name, cli::command(dir, &args, &[]), dir).unwrap()
}

async fn hello(conn: &mut Conn) -> Option<feed_wire::Resume> {
    match conn.recv().await {
        ToControl::Hello { resume, .. } => resume,
        other => panic!("expected Hello, got {other:?}"),
    }
}

#[tokio::test]
async fn a_joined_node_serves_the_feeds_users_and_after_a_restart_serves_them_from_its_cache() {
    let dir = tempfile::tempdir().unwrap();
    let node_dir = dir.path().join("node");
    let mut control = FakeControl::start().await;

    // milly node join: the control plane answers the join with the node's name.
    let join = control.join_string([7; 32]).to_string();
    let joining = {
        let (dir, node_dir) = (dir.path().to_owned(), node_dir.clone());
        tokio::task::spawn_blocking(move || {
            let node_dir = node_dir.to_str().unwrap().to_owned();
            cli::run(&dir, &["node", "join", &join, "--dir", &node_dir], &[])
        })
    };
    let mut conn = control.accept().await;
    assert!(matches!(conn.recv().await, ToControl::Join { .. }));
    conn.send(&ToNode::Joined {
        node_name: "de-1".into(),
    })
    .await;
    let joined = joining.await.unwrap();
    assert_eq!(joined.status, 0, "{joined:?}");
    assert!(joined.stdout.contains("de-1") && joined.stdout.contains("milly node run"));

    // Loopback only, and the echo server on loopback may be reached (a test setup).
    let config = node_dir.join("node.toml");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("listen = \"0.0.0.0\"", "listen = \"127.0.0.1\"")
        .replace(
            "allow_private_destinations = false",
            "allow_private_destinations = true",
        );
    std::fs::write(&config, text).unwrap();

    // milly node run: settings and a snapshot arrive over the link.
    let mut node = start_node(dir.path(), &config, "node-1");
    let mut conn = control.accept().await;
    assert_eq!(hello(&mut conn).await, None);
    let port = free_port();
    let node_addr = SocketAddr::from(([127, 0, 0, 1], port));
    conn.send(&ToNode::Settings(tls_settings(port))).await;
    conn.send(&ToNode::SnapshotBegin {
        epoch: EPOCH,
        revision: 1,
        total: 2,
    })
    .await;
    conn.send(&ToNode::SnapshotChunk {
        entries: vec![entry(ALICE), entry(BOB)],
    })
    .await;
    conn.send(&ToNode::SnapshotEnd).await;
    assert_eq!(conn.recv().await, ToControl::Applied { revision: 1 });
    node.wait_for_tcp(node_addr, Duration::from_secs(20))
        .await
        .unwrap();
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let SocketAddr::V4(echo_addr) = echo.addr() else {
        panic!("IPv4 echo")
    };
    eventually(node_addr, ALICE, echo_addr, true).await;
    assert!(!admits(node_addr, STRANGER, echo_addr).await);

    // Bob is revoked on the control plane.
    conn.send(&ToNode::Changes {
        revision: 2,
        upserts: vec![],
        revoked: vec![BOB],
    })
    .await;
    assert_eq!(conn.recv().await, ToControl::Applied { revision: 2 });
    assert!(!admits(node_addr, BOB, echo_addr).await);

    // The control plane goes away and the node restarts: it serves from its cache.
    drop(conn);
    drop(control);
    node.terminate(Duration::from_secs(10)).await.unwrap();
    let mut node = start_node(dir.path(), &config, "node-2");
    node.wait_for_tcp(node_addr, Duration::from_secs(20))
        .await
        .unwrap();
    eventually(node_addr, ALICE, echo_addr, true).await;
    assert!(!admits(node_addr, BOB, echo_addr).await);
    assert!(node.log().contains("ready"), "{}", node.log());
    node.terminate(Duration::from_secs(10)).await.unwrap();
}
