//! `[node.http] listen` behind a real Caddy that terminates TLS, running docs/transports.md's
//! Caddyfile as the page shows it (only the addresses, certificate and path are the test's,
//! plus options that keep Caddy inside the test's directory): Xray-core and sing-box clients
//! built from the links milly prints carry TCP byte for byte and UDP through Caddy over ws,
//! httpupgrade, gRPC (h2c to the node) and, Xray only, XHTTP in each mode; any other path gets Caddy's website; the node counts connections against the
//! client Caddy names. Neither the node's log nor Caddy's names a path or client.
//!
//! Caddy comes from the Debian package `.ci/run` installs: missing in CI is a failure.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use testkit::docs;
use testkit::reverse_proxy::{self, ProxiedNode, HOST, PATH, START_TIMEOUT};
use testkit::Process;

/// What the recipe's Caddy answers for every path but the transports' (the website).
const WEBSITE: &str = "caddy website";
/// Where Debian's package and an upstream install put the binary.
const CADDY: &[&str] = &["/usr/bin/caddy", "/usr/local/bin/caddy"];

/// The recipe's global options block opens with this line alone.
const GLOBAL_OPTIONS: &str = "{";

/// docs/transports.md's Caddyfile for a node at `listen`, TLS on `public` with `dir`'s
/// certificate and the test's own global options.
fn caddyfile(dir: &Path, public: SocketAddr, listen: SocketAddr) -> String {
    let (cert, key) = testkit::tls::write_self_signed(dir, &[HOST]).unwrap();
    let test_options = format!(
        "{GLOBAL_OPTIONS}\n\
         \t# The test's: no admin port, no ACME, no port 80, files in its directory, no UDP.\n\
         \tadmin off\n\
         \tauto_https disable_redirects\n\
         \tdefault_bind {ip}\n\
         \tstorage file_system {storage}\n\
         \tservers {{\n\t\tprotocols h1 h2\n\t}}",
        ip = public.ip(),
        storage = dir.join("storage").display(),
    );
    let recipe = docs::fenced_block("transports.md", "caddyfile")
        .unwrap()
        .replace(
            "vpn.example.com {",
            &format!("https://{HOST}:{} {{", public.port()),
        )
        .and_then(|r| {
            r.replace(
                "# tls /etc/ssl/vpn.example.com/fullchain.pem \
                 /etc/ssl/vpn.example.com/privkey.pem",
                &format!("tls {} {}", cert.display(), key.display()),
            )
        })
        .and_then(|r| r.replace("/YOUR-NODE-HTTP-PATH", PATH))
        .and_then(|r| r.replace("127.0.0.1:10080", &listen.to_string()))
        .unwrap();
    assert!(
        recipe.text().starts_with(&format!("{GLOBAL_OPTIONS}\n")),
        "the recipe opens with global options"
    );
    let text = recipe
        .edit_lines(|line| (line == GLOBAL_OPTIONS).then(|| test_options.clone()))
        .text()
        .to_owned();
    assert!(
        text.contains(&format!("\thandle {PATH}/xh/* {{"))
            && text.contains(&format!("\thandle {PATH}.grpc/* {{")),
        "the XHTTP and gRPC blocks are in the recipe:\n{text}"
    );
    text
}

/// Caddy on [`caddyfile`] in `dir`, everything it writes there too ($HOME, XDG directories).
async fn start_caddy(bin: &Path, dir: &Path, public: SocketAddr, listen: SocketAddr) -> Process {
    let config = dir.join("Caddyfile");
    std::fs::write(&config, caddyfile(dir, public, listen)).unwrap();
    let mut cmd = Command::new(bin);
    cmd.args(["run", "--adapter", "caddyfile", "--config"])
        .arg(&config)
        .env("HOME", dir)
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("XDG_CONFIG_HOME", dir.join("config"));
    let mut caddy = Process::start("caddy", cmd, dir).unwrap();
    caddy.wait_for_tcp(public, START_TIMEOUT).await.unwrap();
    caddy
}

/// Caddy's log names neither the transports' path nor a client's address.
fn assert_caddy_log_private(caddy: &Process, clients: &[&str]) {
    let log = caddy.log();
    assert!(!log.contains(PATH), "Caddy's log names the path:\n{log}");
    for client in clients {
        assert!(!log.contains(client), "Caddy's log names {client}:\n{log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xray_and_sing_box_carry_tcp_and_udp_through_caddy_to_the_plain_listener() {
    let Some(bin) = reverse_proxy::require("caddy", CADDY) else {
        return;
    };
    let public = testkit::free_tcp_addr();
    let node = ProxiedNode::start(public).await;
    let dir = tempfile::tempdir().unwrap();
    let caddy = start_caddy(&bin, dir.path(), public, node.listen()).await;

    let links = node.add_user(7201, public);
    let cert = dir.path().join("cert.pem");
    let ran = reverse_proxy::carry_through(&links, &cert, || {
        format!("node:\n{}\ncaddy:\n{}", node.log(), caddy.log())
    })
    .await;

    reverse_proxy::probes_see_the_website(public, node.listen(), WEBSITE).await;
    if ran > 0 {
        node.assert_log_private(&links);
    }
    assert_caddy_log_private(&caddy, &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_counts_connections_against_the_client_caddy_names() {
    let Some(bin) = reverse_proxy::require("caddy", CADDY) else {
        return;
    };
    let public = testkit::free_tcp_addr();
    let node = ProxiedNode::start_counting(public).await;
    let dir = tempfile::tempdir().unwrap();
    let caddy = start_caddy(&bin, dir.path(), public, node.listen()).await;

    reverse_proxy::sources_are_the_clients_the_proxy_names(public).await;
    // The refused upgrade failed upstream: the recipe keeps that out of Caddy's log.
    assert_caddy_log_private(&caddy, &["127.0.0.2", "127.0.0.3", "127.0.0.4"]);
}
