//! Every address the configuration listens on is free now, or held by a running milly (its
//! website answers at `[web] listen`); anything else would stop `milly serve` at start.

use std::io::ErrorKind;
use std::net::{SocketAddr, TcpListener};

use super::{https, Finding};

/// How long milly's website may take to answer before the port counts as someone else's.
const WEBSITE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

pub async fn check(c: &config::Config) -> Vec<Finding> {
    let mut listeners = vec![("[web] listen", c.web.listen)];
    if c.node.enabled {
        listeners.push(("[node] listen", c.node.listen));
    }
    if let Some(addr) = c.node.http.listen {
        listeners.push(("[node.http] listen", addr));
    }
    if let Some(addr) = c.control.listen {
        listeners.push(("[control] listen", addr));
    }
    let mut ours: Option<bool> = None;
    let mut findings = Vec::new();
    for (key, addr) in listeners {
        let check = format!("port {}", addr.port());
        let finding = match TcpListener::bind(addr) {
            Ok(_free) => Finding::ok(check, format!("{key} {addr} is free")),
            Err(e) if e.kind() == ErrorKind::AddrInUse => {
                let milly = match ours {
                    Some(known) => known,
                    None => *ours.insert(milly_website_at(c.web.listen).await),
                };
                if milly {
                    Finding::ok(check, format!("{key} {addr} is held by the running milly"))
                } else {
                    Finding::fail(
                        check,
                        format!(
                            "{key} {addr} is taken by another program; stop it (`ss -ltnp \
                             'sport = :{}'` names it) or set another address in {key}",
                            addr.port()
                        ),
                    )
                }
            }
            Err(e) if e.kind() == ErrorKind::AddrNotAvailable => Finding::fail(
                check,
                format!(
                    "{key} {addr}: {} is no address of this machine; use one of its \
                     addresses or 0.0.0.0",
                    addr.ip()
                ),
            ),
            Err(e) if e.kind() == ErrorKind::PermissionDenied => Finding::fail(
                check,
                format!(
                    "{key} {addr}: ports below 1024 need root or CAP_NET_BIND_SERVICE \
                     (systemd: AmbientCapabilities=CAP_NET_BIND_SERVICE)"
                ),
            ),
            Err(e) => Finding::fail(check, format!("{key} {addr}: cannot listen: {e}")),
        };
        findings.push(finding);
    }
    findings
}

/// Whether milly's website answers at `addr`: its health check, which names the build, and its
/// robots.txt, which keeps crawlers out of `/sub/`.
async fn milly_website_at(addr: SocketAddr) -> bool {
    let Ok(client) = https::any_certificate() else {
        return false;
    };
    let host = match addr.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".to_owned(),
        ip if ip.is_unspecified() => "[::1]".to_owned(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    let base = format!("http://{host}:{}", addr.port());
    let text = |path: &'static str| {
        let request = client.get(format!("{base}{path}")).timeout(WEBSITE_TIMEOUT);
        async move { request.send().await.ok()?.text().await.ok() }
    };
    let (health, robots) = tokio::join!(text("/healthz"), text("/robots.txt"));
    // `/healthz` names milly's build (its status may be an outage, the website is still ours).
    let names_a_build = health
        .and_then(|h| serde_json::from_str::<serde_json::Value>(&h).ok())
        .is_some_and(|h| h["build"]["version"].is_string());
    names_a_build && robots.is_some_and(|r| r.contains("Disallow: /sub/"))
}
