//! `[node.http] listen` behind a real nginx that terminates TLS, running docs/transports.md's
//! `server` block as the page shows it (only the addresses, certificate and path are the
//! test's): `milly serve` with ws, httpupgrade, xhttp and grpc on a plain loopback port, links
//! that name the proxy's host and port (`[node] public_port`), and Xray-core (every transport,
//! XHTTP in each mode, over HTTP/1.1 to the node) and sing-box (all but XHTTP; gRPC over h2c)
//! clients built from those links carrying TCP byte for byte and UDP through nginx. Any other path through nginx
//! gets nginx's own website; the transport's path without an upgrade gets the node's bare 404.
//! The node counts connections against the client nginx names. The node's log names no path,
//! Host or user.
//!
//! nginx comes from the Debian package `.ci/run` installs: missing in CI is a failure.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use testkit::docs;
use testkit::reverse_proxy::{self, ProxiedNode, HOST, PATH, START_TIMEOUT};
use testkit::Process;

/// What the recipe's nginx answers for every path but the transports' (the website).
const WEBSITE: &str = "nginx website";
/// Where Debian's package and an upstream install put the binary.
const NGINX: &[&str] = &["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"];

/// docs/transports.md's `server` block with the test's addresses and files.
fn server_block(public: SocketAddr, listen: SocketAddr, cert: &Path, key: &Path) -> String {
    let live = "/etc/letsencrypt/live/vpn.example.com";
    docs::fenced_block("transports.md", "nginx")
        .unwrap()
        .replace(
            "listen 443 ssl http2;",
            &format!("listen {public} ssl http2;"),
        )
        .and_then(|r| {
            r.replace(
                "server_name vpn.example.com;",
                &format!("server_name {HOST};"),
            )
        })
        .and_then(|r| {
            r.replace(
                &format!("{live}/fullchain.pem"),
                &cert.display().to_string(),
            )
        })
        .and_then(|r| r.replace(&format!("{live}/privkey.pem"), &key.display().to_string()))
        .and_then(|r| r.replace("/YOUR-NODE-HTTP-PATH/", &format!("{PATH}/")))
        .and_then(|r| r.replace("/YOUR-NODE-HTTP-PATH.grpc/", &format!("{PATH}.grpc/")))
        .and_then(|r| r.replace("127.0.0.1:10080", &listen.to_string()))
        .unwrap()
        .text()
        .to_owned()
}

/// nginx in `dir` (pid, logs and temp files there), TLS on `public` for [`HOST`].
async fn start_nginx(bin: &Path, dir: &Path, public: SocketAddr, listen: SocketAddr) -> Process {
    let (cert, key) = testkit::tls::write_self_signed(dir, &[HOST]).unwrap();
    let d = dir.display();
    let conf = format!(
        // One process: killing it at the end leaves no orphaned workers behind.
        "master_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
         events {{ worker_connections 256; }}\n\
         http {{\n    access_log off;\n    client_body_temp_path {d}/body;\n    proxy_temp_path {d}/proxy;\n    \
         fastcgi_temp_path {d}/fastcgi;\n    uwsgi_temp_path {d}/uwsgi;\n    scgi_temp_path {d}/scgi;\n\n{}}}\n",
        server_block(public, listen, &cert, &key)
    );
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    let mut cmd = Command::new(bin);
    cmd.arg("-p")
        .arg(dir)
        .arg("-e")
        .arg(dir.join("error.log"))
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .args(["-g", "daemon off;"]);
    let mut nginx = Process::start("nginx", cmd, dir).unwrap();
    nginx.wait_for_tcp(public, START_TIMEOUT).await.unwrap();
    nginx
}

/// A directory for nginx's files that it may enter should it drop privileges (run as root).
fn nginx_dir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xray_and_sing_box_carry_tcp_and_udp_through_nginx_to_the_plain_listener() {
    let Some(bin) = reverse_proxy::require("nginx", NGINX) else {
        return;
    };
    let public = testkit::free_tcp_addr();
    let node = ProxiedNode::start(public).await;
    let dir = nginx_dir();
    let nginx = start_nginx(&bin, dir.path(), public, node.listen()).await;

    // Links name the proxy: public_host and public_port, the proxy's TLS there.
    let links = node.add_user(7101, public);
    let cert = dir.path().join("cert.pem");
    let ran = reverse_proxy::carry_through(&links, &cert, || {
        format!(
            "node:\n{}\nnginx:\n{}",
            node.log(),
            std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default()
        )
    })
    .await;

    reverse_proxy::probes_see_the_website(public, node.listen(), WEBSITE).await;
    if ran > 0 {
        node.assert_log_private(&links);
    }
    drop(nginx);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_counts_connections_against_the_client_nginx_names() {
    let Some(bin) = reverse_proxy::require("nginx", NGINX) else {
        return;
    };
    let public = testkit::free_tcp_addr();
    let node = ProxiedNode::start_counting(public).await;
    let dir = nginx_dir();
    let nginx = start_nginx(&bin, dir.path(), public, node.listen()).await;
    reverse_proxy::sources_are_the_clients_the_proxy_names(public).await;
    drop(nginx);
}
