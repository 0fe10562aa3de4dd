//! The operator's first steps, with the real binary: serve with no config, init, add and show a
//! user on SQLite and PostgreSQL, and clear one-line errors for bad configurations.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use testkit::free_port;
use testkit::http;
use testkit::milly::cli::{ok, ports_env, run};
use testkit::milly::Serve;
use time::OffsetDateTime;

#[test]
fn serve_with_no_config_starts_on_embedded_defaults_and_serves_the_website() {
    let dir = tempfile::tempdir().unwrap();
    let (env, web, _) = ports_env();
    let mut serve = Serve::start(dir.path(), &[], &env, "website:");
    let (status, body) = http::get(web, "/").unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("milly"), "home page: {body}");
    assert!(
        dir.path().join("milly-data/milly.db").exists(),
        "SQLite file in ./milly-data"
    );
    let lines = serve.lines();
    assert!(
        lines.iter().any(|l| l.contains("embedded defaults")),
        "{lines:?}"
    );

    // The admin surface is invisible without the generated token, and works with it.
    assert_eq!(http::get(web, "/admin/metrics").unwrap().0, 404);
    let token = std::fs::read_to_string(dir.path().join("milly-data/admin-token")).unwrap();
    let bearer = format!("Bearer {}", token.trim());
    let (status, body) =
        http::get_with(web, "/admin/metrics", &[("Authorization", &bearer)]).unwrap();
    assert_eq!(status, 200);
    assert!(
        body.contains("milly_users 0") && body.contains("milly_node_connections_accepted_total"),
        "{body}"
    );
    assert_eq!(
        serve.terminate(Duration::from_secs(15)),
        Some(0),
        "graceful shutdown on SIGTERM"
    );
}

#[test]
fn init_writes_a_config_once_and_serve_runs_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("etc");
    ok(dir.path(), &["init", "--dir", conf.to_str().unwrap()], &[]);
    let text = std::fs::read_to_string(conf.join("milly.toml")).unwrap();
    assert!(text.contains("[node]") && text.contains("[[plans]]"));

    let again = run(dir.path(), &["init", "--dir", conf.to_str().unwrap()], &[]);
    assert_ne!(again.status, 0, "init must never overwrite");
    assert_eq!(
        std::fs::read_to_string(conf.join("milly.toml")).unwrap(),
        text
    );

    let config = conf.join("milly.toml");
    let config = config.to_str().unwrap();
    let checked = ok(dir.path(), &["config", "check", "--config", config], &[]);
    let token_line = text
        .lines()
        .find(|l| l.starts_with("token = \"") && l.len() > 20)
        .unwrap();
    let token = token_line
        .trim_start_matches("token = \"")
        .trim_end_matches('"');
    assert!(
        !checked.contains(token),
        "config check must mask the admin token"
    );
    assert!(checked.contains("***"));
    // A random secret prefix for the HTTP transports, which config check accepted above, and
    // which turning them on needs no more than naming them.
    let http_path = text
        .split("\n[node.http]\n")
        .nth(1)
        .and_then(|s| s.lines().find(|l| l.starts_with("path = \"/")))
        .unwrap();
    assert!(http_path.len() > 30, "{http_path}");
    let tls = [
        ("MILLY_NODE__SECURITY", "tls".to_owned()),
        (
            "MILLY_NODE__TRANSPORTS",
            r#"["tcp","xhttp","ws","grpc","httpupgrade"]"#.to_owned(),
        ),
    ];
    ok(dir.path(), &["config", "check", "--config", config], &tls);
    // The generated REALITY node takes XHTTP and gRPC, but not WebSocket.
    let reality_http = [(
        "MILLY_NODE__TRANSPORTS",
        r#"["tcp","xhttp","grpc"]"#.to_owned(),
    )];
    ok(
        dir.path(),
        &["config", "check", "--config", config],
        &reality_http,
    );
    let ws = [("MILLY_NODE__TRANSPORTS", r#"["tcp","ws"]"#.to_owned())];
    let refused = run(dir.path(), &["config", "check", "--config", config], &ws);
    assert_ne!(refused.status, 0);
    assert!(
        refused.stderr.contains("node.transports") && refused.stderr.contains("tls"),
        "{}",
        refused.stderr
    );

    let (env, web, _) = ports_env();
    let mut serve = Serve::start(dir.path(), &["--config", config], &env, "website:");
    assert_eq!(http::get(web, "/healthz").unwrap().0, 200);
    // A new operator gets a REALITY node: the link carries its key, short id and Vision.
    let added = ok(
        dir.path(),
        &[
            "--config",
            config,
            "user",
            "add",
            "--telegram-id",
            "7",
            "--days",
            "1",
        ],
        &env,
    );
    let link = added.lines().find(|l| l.starts_with("vless://")).unwrap();
    assert!(
        link.contains("security=reality&pbk=") && link.contains("flow=xtls-rprx-vision"),
        "{link}"
    );
    assert!(
        conf.join("milly-data/milly.db").exists(),
        "data_dir is relative to the config file"
    );
    assert_eq!(serve.terminate(Duration::from_secs(15)), Some(0));
}

fn add_and_show_a_user(database_url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let mut env = Vec::new();
    if let Some(url) = database_url {
        env.push(("MILLY_DATABASE__URL", url));
    }
    let before = OffsetDateTime::now_utc();
    let added = ok(
        dir.path(),
        &["user", "add", "--telegram-id", "42", "--days", "30"],
        &env,
    );
    assert!(
        added
            .lines()
            .any(|l| l.starts_with("subscription: http://127.0.0.1:8080/sub/")),
        "{added}"
    );
    let link = added
        .lines()
        .find(|l| l.starts_with("vless://"))
        .expect("one vless:// link per node");
    assert!(
        link.contains("security=tls") && link.contains("allowInsecure=1"),
        "{link}"
    );

    let shown = ok(dir.path(), &["user", "show", "42"], &env);
    assert!(shown.contains("status: active"), "{shown}");
    let ends = shown
        .lines()
        .find_map(|l| l.strip_prefix("ends: "))
        .unwrap();
    let ends = OffsetDateTime::parse(ends, &time::format_description::well_known::Rfc3339).unwrap();
    let expected = before + time::Duration::days(30);
    assert!(
        (ends - expected).abs() < time::Duration::minutes(1),
        "ends {ends}, expected {expected}"
    );

    // The internal id works as well as the Telegram id.
    let internal = shown
        .lines()
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .to_owned();
    assert!(ok(dir.path(), &["user", "show", &internal], &env).contains("(telegram 42)"));

    let twice = run(dir.path(), &["user", "add", "--telegram-id", "42"], &env);
    assert_ne!(twice.status, 0);
    assert!(twice.stderr.contains("already exists"), "{}", twice.stderr);
    let missing = run(dir.path(), &["user", "show", "999999"], &env);
    assert_ne!(missing.status, 0);
    assert_eq!(
        missing.stderr.trim().lines().count(),
        1,
        "{}",
        missing.stderr
    );
}

#[test]
fn sqlite_user_add_then_show_shows_an_active_user_with_the_right_end_date() {
    add_and_show_a_user(None);
}

#[tokio::test]
async fn postgres_user_add_then_show_shows_an_active_user_with_the_right_end_date() {
    let Some(db) = store::testing::TestDb::postgres().await else {
        return;
    };
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || add_and_show_a_user(Some(url)))
        .await
        .unwrap();
    drop(db);
}

/// A bad configuration ends in one clear line and a non-zero exit, never a panic.
fn refused(toml: &str, env: &[(&str, String)], expect: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("milly.toml");
    std::fs::write(&path, toml).unwrap();
    let r = run(
        dir.path(),
        &["serve", "--config", path.to_str().unwrap()],
        env,
    );
    assert_ne!(r.status, 0, "accepted: {toml}");
    let lines: Vec<&str> = r.stderr.trim().lines().collect();
    assert_eq!(lines.len(), 1, "one line expected: {}", r.stderr);
    assert!(lines[0].starts_with("error: "), "{}", lines[0]);
    assert!(!r.stderr.contains("panicked"));
    for needle in expect {
        assert!(
            lines[0].contains(needle),
            "`{needle}` missing from: {}",
            lines[0]
        );
    }
}

#[test]
fn a_malformed_config_is_refused_in_one_line() {
    refused("[web\nlisten = ", &[], &["milly.toml"]);
}

#[test]
fn an_unknown_key_is_refused_in_one_line() {
    refused(
        "[web]\nlisten = \"127.0.0.1:1\"\nlisen = 2\n",
        &[],
        &["milly.toml", "lisen"],
    );
}

#[test]
fn a_bad_url_is_refused_in_one_line() {
    refused(
        "[service]\npublic_url = \"not a url\"\n",
        &[],
        &["milly.toml", "service.public_url"],
    );
}

#[test]
fn an_unreachable_database_is_refused_in_one_line() {
    let port = free_port();
    refused(
        &format!("[database]\nurl = \"postgres://milly:pw@127.0.0.1:{port}/milly\"\n"),
        &[],
        &["database"],
    );
}

#[test]
fn a_missing_explicit_config_is_refused_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(dir.path(), &["serve", "--config", "nope.toml"], &[]);
    assert_ne!(r.status, 0);
    assert!(r.stderr.contains("nope.toml"), "{}", r.stderr);
}

#[test]
fn version_and_help_work() {
    let dir = tempfile::tempdir().unwrap();
    assert!(ok(dir.path(), &["--version"], &[]).starts_with("milly "));
    for args in [
        &["--help"][..],
        &["user", "--help"],
        &["user", "add", "--help"],
        &["config", "check", "--help"],
    ] {
        ok(dir.path(), args, &[]);
    }
}
