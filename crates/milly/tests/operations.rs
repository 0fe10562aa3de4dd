//! Everyday operation of a running service: `milly version` and `/healthz` say the build and
//! the schema, `[log] format = "json"` writes one JSON object per line, and SIGHUP puts new
//! plans, prices and texts in place while a user's connection through the node and a browser's
//! keep-alive connection to the website stay open.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::time::{Duration, Instant};

use testkit::milly::ListeningClient;
use testkit::traffic::random_bytes;
use testkit::{http, wait_admitted, EchoMode, MillyHome, TcpEcho};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ADMIT_DEADLINE: Duration = Duration::from_secs(10);
const RELOAD_DEADLINE: Duration = Duration::from_secs(10);

const PLANS_BEFORE: &str = "[service]\nname = \"Milly Before\"\n\n\
    [[plans]]\nid = \"month\"\ndays = 30\nprice_stars = 111\n";
const PLANS_AFTER: &str = "[service]\nname = \"Milly After\"\n\n\
    [[plans]]\nid = \"month\"\ndays = 30\nprice_stars = 777\n\n\
    [[plans]]\nid = \"year\"\ndays = 365\nprice_stars = 5000\n";

fn home_config(home: &MillyHome) -> std::path::PathBuf {
    home.dir().join("milly.toml")
}

/// Replaces `old` with `new` in the home's milly.toml.
fn edit_config(home: &MillyHome, old: &str, new: &str) {
    let path = home_config(home);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(old), "{text}");
    std::fs::write(&path, text.replace(old, new)).unwrap();
}

#[test]
fn version_names_the_build_and_the_schema() {
    let home = MillyHome::new("").unwrap();
    let out = home.run(&["version"]).unwrap();
    let first = out.lines().next().unwrap();
    assert!(
        first.starts_with(&format!("milly {} (", env!("CARGO_PKG_VERSION"))),
        "{out}"
    );
    let schema = out.lines().find(|l| l.starts_with("schema: ")).unwrap();
    assert!(
        schema.contains("(SQLite)") && schema.contains("(PostgreSQL)"),
        "{out}"
    );
    // `--version` says the same build.
    let short = home.run(&["--version"]).unwrap();
    assert_eq!(short.trim(), first, "{short}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_says_the_build_and_that_the_database_is_at_the_expected_schema() {
    let home = MillyHome::new("").unwrap();
    let mut serve = home.serve().await.unwrap();
    serve
        .wait_for_tcp(home.web_addr(), ADMIT_DEADLINE)
        .await
        .unwrap();
    let answer = http::fetch(home.web_addr(), "/healthz", &[]).await.unwrap();
    assert!(answer.head.starts_with("HTTP/1.1 200"), "{}", answer.head);
    let body: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(body["status"], "ok", "{body}");
    assert_eq!(
        body["build"]["version"],
        env!("CARGO_PKG_VERSION"),
        "{body}"
    );
    let applied = body["schema"]["applied"].as_i64().unwrap();
    assert!(applied > 20_260_000_000_000, "{body}");
    assert_eq!(body["schema"]["expected"].as_i64(), Some(applied), "{body}");
    // The same number `milly version` prints for this backend.
    let version = home.run(&["version"]).unwrap();
    assert!(
        version.contains(&format!("{applied} (SQLite)")),
        "{version}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_one_object_per_line_and_hold_no_address() {
    let home = MillyHome::new("[log]\nformat = \"json\"\n").unwrap();
    let mut serve = home.serve().await.unwrap();
    serve
        .wait_for_tcp(home.web_addr(), ADMIT_DEADLINE)
        .await
        .unwrap();
    // Something worth a warning: a reload of a broken file.
    edit_config(&home, "format = \"json\"", "format = \"json\"\n[nope]\n");
    serve.signal("HUP").unwrap();
    let deadline = Instant::now() + RELOAD_DEADLINE;
    while !serve.log().contains("was not reloaded") {
        assert!(Instant::now() < deadline, "{}", serve.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = serve.log();
    let objects: Vec<serde_json::Value> = log
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let refused = objects
        .iter()
        .find(|o| {
            o["message"]
                .as_str()
                .is_some_and(|m| m.contains("was not reloaded"))
        })
        .unwrap_or_else(|| panic!("no JSON line for the refused reload:\n{log}"));
    assert_eq!(refused["level"], "ERROR", "{refused}");
    assert!(
        refused["error"].as_str().unwrap().contains("nope"),
        "{refused}"
    );
    for line in log.lines().filter(|l| l.contains("\"level\"")) {
        assert!(line.starts_with('{'), "a log line that is not JSON: {line}");
        assert!(!line.contains("127.0.0.1"), "an address in the log: {line}");
    }
}

#[test]
fn a_remote_node_takes_its_log_format_from_the_environment_and_refuses_a_wrong_one() {
    let dir = tempfile::tempdir().unwrap();
    let run = testkit::milly::cli::run(
        dir.path(),
        &["node", "run", "--config", "missing.toml"],
        &[("MILLY_LOG__FORMAT", "yaml".to_owned())],
    );
    assert_ne!(run.status, 0);
    assert!(run.stderr.contains("MILLY_LOG__FORMAT"), "{}", run.stderr);
    let run = testkit::milly::cli::run(
        dir.path(),
        &["node", "run", "--config", "missing.toml"],
        &[("MILLY_LOG__FORMAT", "json".to_owned())],
    );
    assert_ne!(run.status, 0);
    assert!(!run.stderr.contains("MILLY_LOG__FORMAT"), "{}", run.stderr);
    assert!(run.stderr.contains("missing.toml"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_plans_prices_and_texts_without_dropping_connections() {
    let home = MillyHome::new(PLANS_BEFORE).unwrap();
    let mut serve = home.serve().await.unwrap();
    serve
        .wait_for_tcp(home.web_addr(), ADMIT_DEADLINE)
        .await
        .unwrap();
    let page = http::fetch(home.web_addr(), "/", &[]).await.unwrap().body;
    assert!(
        page.contains("Milly Before") && page.contains("111"),
        "{page}"
    );

    // A user's connection through the node, and a keep-alive connection to the website.
    let link = home.add_user_printed(4001, 30).unwrap();
    let parsed = client::ClientLink::parse(&link).unwrap();
    wait_admitted(home.node_addr(), &parsed, ADMIT_DEADLINE)
        .await
        .unwrap();
    let ListeningClient {
        process: _client,
        socks,
        ..
    } = testkit::milly::client_on_free_ports(home.dir(), &link, &[])
        .await
        .unwrap();
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let mut tunnel = testkit::socks::connect(socks, echo.addr()).await.unwrap();
    echo_once(&mut tunnel, 64 * 1024).await;
    let mut browser = tokio::net::TcpStream::connect(home.web_addr())
        .await
        .unwrap();
    let first = keep_alive_get(&mut browser, home.web_addr(), "/").await;
    assert!(first.contains("111"), "{first}");

    // The operator edits prices and the name, adds a plan and moves the website (which waits
    // for a restart), then sends SIGHUP.
    edit_config(&home, PLANS_BEFORE, PLANS_AFTER);
    edit_config(
        &home,
        &format!("listen = \"{}\"", home.web_addr()),
        "listen = \"127.0.0.1:1\"",
    );
    serve.signal("HUP").unwrap();
    let deadline = Instant::now() + RELOAD_DEADLINE;
    loop {
        let page = http::fetch(home.web_addr(), "/", &[]).await.unwrap().body;
        if page.contains("777") {
            assert!(
                page.contains("Milly After") && page.contains("5000"),
                "{page}"
            );
            assert!(!page.contains("111"), "{page}");
            break;
        }
        assert!(Instant::now() < deadline, "not reloaded:\n{}", serve.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        serve.log().contains("take effect after a restart") && serve.log().contains("web"),
        "{}",
        serve.log()
    );
    // Both connections are the same ones and still carry everything.
    echo_once(&mut tunnel, 64 * 1024).await;
    let again = keep_alive_get(&mut browser, home.web_addr(), "/").await;
    assert!(again.contains("777"), "{again}");
}

async fn echo_once(stream: &mut tokio::net::TcpStream, size: usize) {
    let payload = random_bytes(size);
    stream.write_all(&payload).await.unwrap();
    let mut got = vec![0u8; size];
    tokio::time::timeout(Duration::from_secs(10), stream.read_exact(&mut got))
        .await
        .unwrap()
        .unwrap();
    assert!(got == payload, "the echo differs");
}

/// One GET on an open connection, read to the end of its body (Content-Length).
async fn keep_alive_get(
    stream: &mut tokio::net::TcpStream,
    addr: std::net::SocketAddr,
    path: &str,
) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: keep-alive\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut chunk))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "the website closed the keep-alive connection");
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap();
        if buf.len() >= end + 4 + length {
            return String::from_utf8_lossy(&buf).into_owned();
        }
    }
}
