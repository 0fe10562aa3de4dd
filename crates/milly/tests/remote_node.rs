//! Remote nodes with the real binaries on both sides: `milly serve` with `[control] listen`,
//! `milly node add` printing a join string, `milly node join` and `milly node run` on each
//! node's "server". Users added on the control plane reach both nodes; sing-box carries their
//! TCP through the link milly prints; a block cuts an open connection within a second; with
//! the control plane down both nodes keep their open connections and accept new ones, a node
//! restarted then serves from its cache, and both resume from their revision when the control
//! plane is back; a used join string, a stranger without a credential and a removed node are
//! refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use testkit::milly::cli;
use testkit::milly::remote::{self, link_to, run_node, wait_for_log};
use testkit::traffic::{self, TrafficError};
use testkit::{free_port, socks, EchoMode, MillyHome, Peer, PeerKind, TcpEcho};

const CUT_DEADLINE: Duration = Duration::from_secs(1);
/// How long one probe through a node may take.
const WAIT: Duration = Duration::from_secs(2);

/// Whether the node at `node` relays `user` to the echo server (a VLESS request over TLS).
async fn admits(node: SocketAddr, user: &[u8; 16], echo: SocketAddrV4) -> bool {
    testkit::probe::vless_admits(node, "127.0.0.1", user, echo, Duration::from_secs(2))
        .await
        .unwrap()
}

async fn eventually(node: SocketAddr, user: &[u8; 16], echo: SocketAddrV4, wanted: bool) {
    let start = Instant::now();
    while admits(node, user, echo).await != wanted {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the node never {} the user",
            if wanted { "admitted" } else { "refused" }
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `milly node add` on loopback in Frankfurt; `security` are the flags after the location.
fn add_node(home: &MillyHome, name: &str, port: u16, security: &[&str]) -> String {
    remote::add_node(home, name, port, "🇩🇪 Frankfurt", security)
}

/// `milly node join` into `dir/node`, its users allowed to the loopback echo servers.
fn join(dir: &Path, join: &str) -> PathBuf {
    remote::join(dir, "node", join, true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_node_serves_the_control_planes_users_and_survives_the_control_plane_going_away() {
    let control_port = free_port();
    let node_port = free_port();
    let node_addr = SocketAddr::from(([127, 0, 0, 1], node_port));
    let home = MillyHome::new(&format!(
        "[control]\nlisten = \"127.0.0.1:{control_port}\"\n"
    ))
    .unwrap();
    let mut serve = home.serve().await.unwrap();
    let work = tempfile::tempdir().unwrap();

    let join_string = add_node(&home, "de-1", node_port, &["--security", "tls"]);
    let config = join(work.path(), &join_string);
    // The join string worked once; a second node cannot use it.
    let again = cli::run(
        work.path(),
        &["node", "join", &join_string, "--dir", "second"],
        &[],
    );
    assert_ne!(again.status, 0, "a join string enrolled twice: {again:?}");
    assert!(again.stderr.contains("used"), "{}", again.stderr);

    let mut node = run_node(work.path(), &config, "node-1");
    node.wait_for_tcp(node_addr, Duration::from_secs(20))
        .await
        .unwrap();
    // A second node, in another "country", that stays up throughout.
    let other_port = free_port();
    let other_addr = SocketAddr::from(([127, 0, 0, 1], other_port));
    let other_join = remote::add_node(
        &home,
        "fi-1",
        other_port,
        "🇫🇮 Helsinki",
        &["--security", "tls"],
    );
    let other_config = remote::join(work.path(), "other", &other_join, true);
    let mut other = run_node(work.path(), &other_config, "other-node");
    other
        .wait_for_tcp(other_addr, Duration::from_secs(20))
        .await
        .unwrap();
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let SocketAddr::V4(echo_addr) = echo.addr() else {
        panic!("IPv4 echo")
    };

    // Users added on the control plane reach the node.
    let alice = home.add_user(2001, 30).unwrap().user_id;
    let bob = home.add_user(2002, 30).unwrap().user_id;
    eventually(node_addr, &alice, echo_addr, true).await;
    // Each user's access may arrive in its own revision: wait for Bob's too.
    eventually(node_addr, &bob, echo_addr, true).await;
    eventually(other_addr, &alice, echo_addr, true).await;
    for addr in [node_addr, other_addr] {
        assert!(
            !admits(addr, &[0x5e; 16], echo_addr).await,
            "a stranger was proxied"
        );
    }
    let listed = home.run(&["node", "list"]).unwrap();
    for name in ["de-1", "fi-1"] {
        assert!(
            listed
                .lines()
                .any(|l| l.starts_with(name) && l.contains("online")),
            "{listed}"
        );
    }
    // The operator's metrics: each node online, none behind once it reported the revision
    // both users arrived in (reports come every few seconds).
    let token = home.admin_token().unwrap();
    let start = Instant::now();
    loop {
        let metrics = testkit::http::admin_metrics(home.web_addr(), &token)
            .await
            .unwrap();
        let caught_up = ["de-1", "fi-1"].iter().all(|name| {
            metrics.contains(&format!("milly_remote_node_online{{node=\"{name}\"}} 1\n"))
                && metrics.contains(&format!(
                    "milly_remote_node_revision_lag{{node=\"{name}\"}} 0\n"
                ))
        });
        if caught_up {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the metrics never showed both nodes online and caught up:\n{metrics}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // sing-box with Bob's link to the remote node carries his TCP; a block cuts it within 1 s.
    // (Xray-core refuses `allowInsecure`, which a self-signed TLS node needs.)
    if let Some(sing_box) = PeerKind::SingBox.require() {
        let link = link_to(&home, 2002, node_port);
        let client = Peer::client(PeerKind::SingBox, &sing_box, &link, &Default::default())
            .await
            .unwrap();
        traffic::tcp_roundtrips(client.addr(), echo.addr(), 2, 256 * 1024)
            .await
            .unwrap();
        let mut conn = socks::connect(client.addr(), echo.addr()).await.unwrap();
        let alive = traffic::time_until_cut(
            &mut conn,
            Duration::from_millis(20),
            Duration::from_millis(300),
        )
        .await;
        assert!(matches!(alive, Err(TrafficError::NotCut(_))), "{alive:?}");
        tokio::task::block_in_place(|| home.run(&["user", "block", "2002"])).unwrap();
        let cut =
            traffic::time_until_cut(&mut conn, Duration::from_millis(20), Duration::from_secs(5))
                .await
                .expect("the blocked user's connection through the remote node is cut");
        assert!(cut <= CUT_DEADLINE, "cut after {cut:?}");
    } else {
        tokio::task::block_in_place(|| home.run(&["user", "block", "2002"])).unwrap();
    }
    eventually(node_addr, &bob, echo_addr, false).await;

    // The control plane goes away: both nodes keep the connections they carry and accept
    // their users' new ones.
    let mut held = Vec::new();
    for addr in [node_addr, other_addr] {
        let open = testkit::probe::vless_open(addr, "127.0.0.1", &alice, echo_addr, WAIT)
            .await
            .unwrap();
        held.push(open.expect("Alice connects before the control plane goes away"));
    }
    serve.terminate(Duration::from_secs(10)).await;
    for (open, addr) in held.iter_mut().zip([node_addr, other_addr]) {
        assert!(
            open.echoes(b"still here", WAIT).await,
            "an open connection through {addr} ended with the control plane"
        );
        assert!(admits(addr, &alice, echo_addr).await);
    }
    // Restarted while the control plane is still down, it serves from its cache.
    node.terminate(Duration::from_secs(10)).await;
    let mut node = run_node(work.path(), &config, "node-2");
    node.wait_for_tcp(node_addr, Duration::from_secs(20))
        .await
        .unwrap();
    wait_for_log(&node, "loaded from the cache").await;
    assert!(admits(node_addr, &alice, echo_addr).await);
    assert!(!admits(node_addr, &bob, echo_addr).await);

    // The control plane is back: the node catches up from its revision, not from scratch.
    let carol = home.add_user(2003, 30).unwrap().user_id;
    let serve = home.serve().await.unwrap();
    eventually(node_addr, &carol, echo_addr, true).await;
    eventually(other_addr, &carol, echo_addr, true).await;
    let resumed = || serve.log().matches("resumed from its revision").count();
    let start = Instant::now();
    while resumed() < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "both nodes resume from their revision: {}",
            serve.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!serve.log().contains("took a snapshot"), "{}", serve.log());
    drop(other);

    // Removed on the control plane: the node's credential opens nothing any more.
    home.run(&["node", "remove", "de-1"]).unwrap();
    wait_for_log(&node, "refused this node").await;
    drop(node);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_without_a_node_credential_gets_no_tls_session_from_the_control_plane() {
    let control_port = free_port();
    let home = MillyHome::new(&format!(
        "[control]\nlisten = \"127.0.0.1:{control_port}\"\n"
    ))
    .unwrap();
    let _serve = home.serve().await.unwrap();
    let control = SocketAddr::from(([127, 0, 0, 1], control_port));
    let outcome = testkit::probe::tls(
        control,
        "milly-control-plane",
        b"hello",
        Duration::from_secs(3),
    )
    .await;
    assert!(
        !matches!(&outcome, Ok(bytes) if !bytes.is_empty()),
        "a stranger without a client certificate was answered: {outcome:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xray_carries_tcp_and_udp_through_a_remote_reality_node_made_by_node_add() {
    let Some(xray) = PeerKind::Xray.require() else {
        return;
    };
    const NAME: &str = "www.example.com";
    let dest = testkit::TlsSite::start(NAME);
    let control_port = free_port();
    let node_port = free_port();
    let home = MillyHome::new(&format!(
        "[control]\nlisten = \"127.0.0.1:{control_port}\"\n"
    ))
    .unwrap();
    let _serve = home.serve().await.unwrap();
    let work = tempfile::tempdir().unwrap();
    let dest_addr = dest.addr().to_string();
    let join_string = add_node(
        &home,
        "de-2",
        node_port,
        &["--dest", &dest_addr, "--server-name", NAME],
    );
    let config = join(work.path(), &join_string);
    let mut node = run_node(work.path(), &config, "node-reality");
    node.wait_for_tcp(
        SocketAddr::from(([127, 0, 0, 1], node_port)),
        Duration::from_secs(20),
    )
    .await
    .unwrap();

    home.add_user(3001, 30).unwrap();
    let link = link_to(&home, 3001, node_port);
    assert!(link.vision, "REALITY links ask for Vision");
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    // The user's access reaches the node within a moment of `user add`.
    let start = Instant::now();
    let client = loop {
        let client = Peer::client(PeerKind::Xray, &xray, &link, &Default::default())
            .await
            .unwrap();
        if traffic::tcp_roundtrip(client.addr(), echo.addr(), b"hello")
            .await
            .is_ok()
        {
            break client;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "xray never got through:\n{}",
            node.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    traffic::tcp_roundtrips(client.addr(), echo.addr(), 4, 1024 * 1024)
        .await
        .unwrap();
    testkit::interop::udp_checks(PeerKind::Xray, &xray, &link).await;

    // A key rotation on the control plane reaches the node without a re-join: the new link
    // gets through, the old key no longer does.
    home.run(&["node", "set", "de-2", "keys=rotate"]).unwrap();
    let rotated = link_to(&home, 3001, node_port);
    assert_ne!(
        rotated.security, link.security,
        "the link carries the new key"
    );
    let start = Instant::now();
    loop {
        let client = Peer::client(PeerKind::Xray, &xray, &rotated, &Default::default())
            .await
            .unwrap();
        if traffic::tcp_roundtrip(client.addr(), echo.addr(), b"hello")
            .await
            .is_ok()
        {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the rotated key never worked:\n{}",
            node.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let old = Peer::client(PeerKind::Xray, &xray, &link, &Default::default())
        .await
        .unwrap();
    assert!(
        traffic::tcp_roundtrip(old.addr(), echo.addr(), b"hello")
            .await
            .is_err(),
        "the old key still opens the node"
    );
}
