//! The sing-box profile milly serves at `/sub/{token}` is not just valid: with its outbounds
//! exactly as served, sing-box connects through the milly node. Only what a test machine cannot
//! run is swapped: the TUN inbound becomes a local proxy port, and the "private addresses go
//! direct" rule is dropped so the loopback echo server is reached through the node.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use serde_json::{json, Value};
use testkit::http::{self, admin_metrics, metric};
use testkit::process::Process;
use testkit::{traffic, EchoMode, MillyHome, PeerKind, TcpEcho};

const SESSIONS: &str = "milly_node_sessions_total";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_sing_box_profile_connects_through_the_node() {
    let Some(sing_box) = PeerKind::SingBox.require() else {
        return;
    };
    let home = MillyHome::new("").unwrap();
    let _serve = home.serve().await.unwrap();
    let added = home
        .run(&["user", "add", "--telegram-id", "77", "--days", "30"])
        .unwrap();
    let url = added
        .lines()
        .find_map(|l| l.strip_prefix("subscription: "))
        .unwrap();
    let path = &url[url.find("/sub/").unwrap()..];

    let answer = http::fetch(
        home.web_addr(),
        path,
        &[("User-Agent", "SFA/1.11.0 (sing-box 1.11.0)")],
    )
    .await
    .unwrap();
    assert!(answer.head.starts_with("HTTP/1.1 200"), "{}", answer.head);
    let mut profile: Value = serde_json::from_str(&answer.body).unwrap();
    let vless = profile["outbounds"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["type"] == "vless")
        .count();
    assert_eq!(vless, 1, "one VLESS outbound per node");

    let socks = testkit::port::free_tcp_addr();
    profile["inbounds"] = json!([{ "type": "mixed", "tag": "tun-in", "listen": "127.0.0.1", "listen_port": socks.port() }]);
    let rules = profile["route"]["rules"].as_array_mut().unwrap();
    rules.retain(|r| r.get("ip_is_private").is_none());
    let config = home.dir().join("sing-box-profile.json");
    std::fs::write(&config, serde_json::to_vec_pretty(&profile).unwrap()).unwrap();

    let mut client = Process::spawn(
        "sing-box-profile",
        &sing_box,
        ["run", "-c", config.to_str().unwrap()],
        &[],
        home.dir(),
    )
    .unwrap();
    client
        .wait_for_tcp(socks, Duration::from_secs(20))
        .await
        .unwrap();
    testkit::wait_admitted(
        home.node_addr(),
        &client::ClientLink::parse(added.lines().find(|l| l.starts_with("vless://")).unwrap())
            .unwrap(),
        Duration::from_secs(2),
    )
    .await
    .unwrap();

    let token = home.admin_token().unwrap();
    let metrics = admin_metrics(home.web_addr(), &token).await.unwrap();
    let before = metric(&metrics, SESSIONS).unwrap_or_else(|| panic!("no {SESSIONS} in {metrics}"));

    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let payload = traffic::random_bytes(128 * 1024);
    traffic::tcp_roundtrip(socks, echo.addr(), &payload)
        .await
        .unwrap();

    let metrics = admin_metrics(home.web_addr(), &token).await.unwrap();
    let after = metric(&metrics, SESSIONS).unwrap_or_else(|| panic!("no {SESSIONS} in {metrics}"));
    assert!(
        after > before,
        "the bytes went through the milly node ({before} -> {after} sessions)"
    );
}
