//! The website in a real headless browser (Debian's `chromium`): every page renders without a
//! single console message (so no CSP violation and no failed load), every request the pages make
//! goes to 127.0.0.1, and screenshots are kept under `target/screenshots/` for people to look at.
//!
//! Needs `chromium` on PATH, so it is ignored by default: run with
//! `cargo test -p web --test browser -- --ignored`.
// A test that unwraps fails loudly, which is what a test should do.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use store::testing::TestDb;
use time::OffsetDateTime;

/// The site on a loopback port, with one subscriber; returns its address, the subscriber's
/// subscription path and their account-link path. The database lives as long as the returned
/// guard.
async fn start_site() -> (SocketAddr, String, String, TestDb) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let public_url: domain::PublicUrl = format!("http://{addr}").parse().expect("a local http URL");
    let site_settings = web::SiteSettings {
        public_url: public_url.clone(),
        operator: "ИП Иванова А. А.".into(),
        support_email: "support@milly.example".into(),
        support_telegram: "@milly_support".into(),
        ..web::SiteSettings::default()
    };
    let app_settings = app::AppSettings {
        public_url,
        ..app::AppSettings::default()
    };
    let db = TestDb::sqlite().await;
    let now = OffsetDateTime::now_utc();
    db.tls_node("milly EU", "EU", "eu.milly.example").await;
    let user = db.subscriber(7, "month", 30, now).await;
    let token = db.sub_token(user.id).await;
    let app = app::App::new(db.store.clone(), app_settings);
    let link = app.issue_account_link(user.id, now).await.unwrap();
    let account = link.url[link.url.find("/account/").unwrap()..].to_owned();
    let site = web::Site::new(site_settings)
        .with_bot_username("milly_vpn_bot")
        .with_app(app);
    tokio::spawn(async move { axum::serve(listener, web::router(site)).await });
    (addr, format!("/sub/{}", token.as_str()), account, db)
}

struct Visit {
    dom: String,
    console: Vec<String>,
    /// Every URL a request was made to on the page's behalf (the page and what it loaded).
    page_requests: Vec<String>,
}

/// Loads `url` in a fresh headless chromium profile, recording console output and the net log.
fn visit(url: &str, screenshot: Option<&Path>) -> Visit {
    let dir = tempfile::tempdir().unwrap();
    let net_log = dir.path().join("net.json");
    let mut cmd = Command::new("chromium");
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=412,2400",
    ])
    .arg(format!(
        "--user-data-dir={}",
        dir.path().join("profile").display()
    ))
    .arg(format!("--log-net-log={}", net_log.display()));
    match screenshot {
        Some(path) => cmd.arg(format!("--screenshot={}", path.display())),
        None => cmd.arg("--dump-dom"),
    };
    let output = cmd
        .arg(url)
        .output()
        .expect("Debian's chromium must be installed (apt-get install chromium)");
    assert!(output.status.success(), "chromium failed on {url}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let console = stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_owned)
        .collect();
    Visit {
        dom: String::from_utf8_lossy(&output.stdout).into_owned(),
        console,
        page_requests: page_requests(&net_log, url),
    }
}

/// URLs of requests the page started (its initiator is the page's origin) plus the page itself.
/// Chromium's own housekeeping requests have no page initiator and are not the site's doing.
fn page_requests(net_log: &Path, url: &str) -> Vec<String> {
    let log: Value = serde_json::from_str(&std::fs::read_to_string(net_log).unwrap()).unwrap();
    let origin = url.split('/').take(3).collect::<Vec<_>>().join("/");
    let mut urls: Vec<String> = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| {
            let p = e.get("params")?;
            let target = p.get("url")?.as_str()?;
            let initiator = p.get("initiator").and_then(Value::as_str);
            (initiator == Some(origin.as_str()) || target == url).then(|| target.to_owned())
        })
        .collect();
    urls.sort();
    urls.dedup();
    urls
}

fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Debian's chromium; run with --ignored"]
async fn every_page_renders_in_chromium_without_console_errors_or_outside_requests() {
    let (addr, sub, account, _db) = start_site().await;
    let base = format!("http://{addr}");
    let delete = format!("{account}/delete");
    let moved = format!("{sub}/delete");
    let mut urls = Vec::new();
    for path in [
        "/",
        "/privacy",
        "/terms",
        "/support",
        "/no-such-page",
        sub.as_str(),
        account.as_str(),
        delete.as_str(),
        moved.as_str(),
        // Signing in with Telegram: the button's page, the return page with its one
        // first-party script (nothing to post without Telegram's answer), and /me, which
        // leads to the button's page without a session.
        "/login",
        "/login/telegram",
        "/me",
    ] {
        for lang in ["ru", "en"] {
            urls.push(format!("{base}{path}?lang={lang}"));
        }
    }
    for url in urls {
        let visit = tokio::task::spawn_blocking({
            let url = url.clone();
            move || visit(&url, None)
        })
        .await
        .unwrap();
        assert!(visit.dom.contains("<main>"), "{url} did not render");
        assert!(visit.console.is_empty(), "{url}: {:#?}", visit.console);
        assert!(
            visit
                .page_requests
                .iter()
                .any(|u| u.contains("/assets/site.")),
            "{url} loaded no stylesheet: {:?}",
            visit.page_requests
        );
        for request in &visit.page_requests {
            assert!(
                request.starts_with(&format!("{base}/")),
                "{url} requested {request}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Debian's chromium; run with --ignored"]
async fn screenshots_of_the_home_subscription_and_delete_pages_are_kept_for_people_to_look_at() {
    let (addr, sub, account, _db) = start_site().await;
    let dir = screenshot_dir();
    let delete = format!("{account}/delete");
    let pages = [
        ("home", "/"),
        ("subscription", sub.as_str()),
        ("account", account.as_str()),
        ("delete", delete.as_str()),
    ];
    for ((name, page), lang) in pages.into_iter().flat_map(|p| [(p, "ru"), (p, "en")]) {
        let path = dir.join(format!("{name}-{lang}.png"));
        let url = format!("http://{addr}{page}?lang={lang}");
        let visit = tokio::task::spawn_blocking({
            let path = path.clone();
            move || visit(&url, Some(&path))
        })
        .await
        .unwrap();
        assert!(visit.console.is_empty(), "{:#?}", visit.console);
        let png = std::fs::read(&path).unwrap();
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 10_000,
            "{}",
            path.display()
        );
    }
}
