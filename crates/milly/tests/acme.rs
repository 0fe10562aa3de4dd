//! HTTPS by itself: `milly serve` with `[web] tls = "acme"` against a real ACME CA (pebble,
//! validating HTTP-01 on milly's `http_listen`). The site's certificate is issued and verified
//! by curl with pebble's root; port 80 answers only challenges and redirects; the TLS node under
//! the domain presents the same certificate; a renewal lands in the same process; a restart
//! serves the stored certificate without ordering again; the files are 0600.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use testkit::milly::Serve;
use testkit::pebble::Pebble;
use testkit::port::free_port;

const DOMAIN: &str = "milly.test";
const NODE_HOST: &str = "node.milly.test";
/// Pebble's certificates live this long, so a renewal (with a third left) comes after 60 s:
/// time enough for the restart at the end to find the renewed one fresh on a busy machine.
const VALIDITY_SECS: u64 = 90;

/// `curl` over HTTPS to `host:port`'s `/healthz` (resolved to loopback; README's check after
/// deploying), trusting only `root`: the certificates it was shown (`%{certs}`), or its error.
fn https_certs(root: &Path, host: &str, port: u16) -> Result<String, String> {
    let out = Command::new("curl")
        .args(["--silent", "--show-error", "--fail", "--max-time", "5"])
        .arg("--cacert")
        .arg(root)
        .args(["--resolve", &format!("{host}:{port}:127.0.0.1")])
        .args(["--output", "/dev/null", "--write-out", "%{certs}"])
        .arg(format!("https://{host}:{port}/healthz"))
        .output()
        .expect("curl runs");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Waits until curl verifies the site and shows a certificate other than `previous`.
fn wait_for_certificate(
    root: &Path,
    port: u16,
    previous: Option<&str>,
    within: Duration,
) -> String {
    let start = Instant::now();
    loop {
        let seen = https_certs(root, DOMAIN, port);
        match (&seen, previous) {
            (Ok(certs), Some(p)) if certs != p => return certs.clone(),
            (Ok(certs), None) => return certs.clone(),
            _ => {}
        }
        assert!(
            start.elapsed() < within,
            "no new certificate within {within:?}; last: {seen:?}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// `curl -i` over plain HTTP: the status line and headers.
fn plain_head(port: u16, path: &str) -> String {
    let out = Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "5", "--head"])
        .arg(format!("http://127.0.0.1:{port}{path}"))
        .output()
        .expect("curl runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn pebble_issues_and_renews_the_sites_certificate_and_a_restart_reuses_it() {
    let http_port = free_port();
    let Some(pebble) = Pebble::start(http_port, VALIDITY_SECS).await.unwrap() else {
        return;
    };
    let root = pebble.issuing_root_file().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let https_port = free_port();
    let node_port = free_port();
    let env = vec![
        ("MILLY_WEB__LISTEN", format!("127.0.0.1:{}", free_port())),
        ("MILLY_NODE__LISTEN", format!("127.0.0.1:{node_port}")),
        ("MILLY_NODE__PUBLIC_HOST", NODE_HOST.to_owned()),
        ("MILLY_WEB__TLS", "acme".to_owned()),
        ("MILLY_WEB__DOMAIN", DOMAIN.to_owned()),
        ("MILLY_WEB__ACME_DIRECTORY", pebble.directory_url()),
        (
            "MILLY_WEB__ACME_CA_FILE",
            pebble.directory_ca_file().display().to_string(),
        ),
        ("MILLY_WEB__HTTPS_LISTEN", format!("127.0.0.1:{https_port}")),
        ("MILLY_WEB__HTTP_LISTEN", format!("127.0.0.1:{http_port}")),
    ];
    let mut serve = Serve::start(dir.path(), &[], &env, "ready");
    serve.wait_for_line(
        &format!("acme: ordering a certificate for {DOMAIN}, {NODE_HOST}"),
        Duration::from_secs(1),
    );

    // Issued: curl verifies the site with pebble's root and nothing else.
    let first = wait_for_certificate(&root, https_port, None, Duration::from_secs(60));
    assert!(first.contains("BEGIN CERTIFICATE"), "curl showed: {first}");
    assert!(
        serve
            .lines()
            .iter()
            .any(|l| l.contains("acme: certificate issued")),
        "the order is logged: {:?}",
        serve.lines()
    );

    // Port 80: the challenge path (nothing waiting now) and a redirect to the HTTPS site that
    // public_url became, whatever the Host.
    let head = plain_head(http_port, "/.well-known/acme-challenge/unknownToken");
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
    let head = plain_head(http_port, "/privacy?lang=en");
    assert!(head.starts_with("HTTP/1.1 301"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains(&format!(
            "location: https://{DOMAIN}:{https_port}/privacy?lang=en"
        )),
        "{head}"
    );

    // The TLS node under the domain presents the same certificate (strangers reach the site).
    let node = https_certs(&root, NODE_HOST, node_port).unwrap();
    assert_eq!(node, first, "the node presents the site's certificate");

    // Renewed in the same process, without a restart.
    let renewed = wait_for_certificate(&root, https_port, Some(&first), Duration::from_secs(120));
    assert_eq!(https_certs(&root, NODE_HOST, node_port).unwrap(), renewed);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let acme = dir.path().join("milly-data/acme");
        for name in ["account.json", "certificate.pem", "key.pem"] {
            let mode = std::fs::metadata(acme.join(name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name}");
        }
    }

    // A restart serves the stored certificate at once, with no new order.
    assert_eq!(serve.terminate(Duration::from_secs(15)), Some(0));
    let mut again = Serve::start(dir.path(), &[], &env, "ready");
    again.wait_for_line(
        &format!("acme: certificate for {DOMAIN}, {NODE_HOST} loaded from the data directory"),
        Duration::from_secs(1),
    );
    assert_eq!(https_certs(&root, DOMAIN, https_port).unwrap(), renewed);
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        !again
            .lines()
            .iter()
            .any(|l| l.contains("acme: certificate issued")),
        "the restart ordered again: {:?}",
        again.lines()
    );
}
