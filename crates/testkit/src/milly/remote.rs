//! Remote nodes as an operator sets them up, for the tests that run them: `milly node add` on
//! the control plane (its join string), `milly node join` on the node's "server" (its
//! node.toml, on loopback), `milly node run`, and the `vless://` links `milly user show`
//! prints for them.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use client::ClientLink;

use super::{cli, MillyHome};
use crate::process::Process;

/// How long a test waits for a node or a log line before it fails.
const WAIT: Duration = Duration::from_secs(15);

/// `milly node add NAME --address 127.0.0.1:PORT --location LOCATION FLAGS...`'s join string.
pub fn add_node(home: &MillyHome, name: &str, port: u16, location: &str, flags: &[&str]) -> String {
    let address = format!("127.0.0.1:{port}");
    let mut args = vec!["node", "add", name, "--address", &address];
    args.extend_from_slice(&["--location", location]);
    args.extend_from_slice(flags);
    let out = home
        .run(&args)
        .unwrap_or_else(|e| panic!("milly node add {name}: {e}"));
    out.split_whitespace()
        .map(|w| w.trim_matches('\''))
        .find(|w| w.starts_with("milly-join1."))
        .unwrap_or_else(|| panic!("no join string in:\n{out}"))
        .to_owned()
}

/// `milly node join` into `dir/sub`, listening on loopback only; `allow_private` lets its
/// users reach loopback destinations such as the tests' echo servers. The node.toml's path.
pub fn join(dir: &Path, sub: &str, join: &str, allow_private: bool) -> PathBuf {
    let node_dir = dir.join(sub);
    let node_dir_text = node_dir.to_str().expect("a UTF-8 temporary path");
    let joined = cli::run(dir, &["node", "join", join, "--dir", node_dir_text], &[]);
    assert_eq!(joined.status, 0, "{joined:?}");
    let config = node_dir.join("node.toml");
    let mut text = std::fs::read_to_string(&config)
        .expect("node.toml")
        .replace("listen = \"0.0.0.0\"", "listen = \"127.0.0.1\"");
    if allow_private {
        text = text.replace(
            "allow_private_destinations = false",
            "allow_private_destinations = true",
        );
    }
    assert!(text.contains("allow_private_destinations = "), "{text}");
    std::fs::write(&config, text).expect("node.toml written");
    config
}

/// `milly node run --config CONFIG` as a process called `name`.
pub fn run_node(dir: &Path, config: &Path, name: &str) -> Process {
    let config = config.to_str().expect("a UTF-8 temporary path");
    let args = ["node", "run", "--config", config];
    Process::start(name, cli::command(dir, &args, &[]), dir)
        .unwrap_or_else(|e| panic!("milly node run {name}: {e}"))
}

/// The `vless://` lines `milly user show TELEGRAM_ID` prints, as printed.
pub fn printed_links(home: &MillyHome, telegram_id: i64) -> Vec<String> {
    let out = home
        .run(&["user", "show", &telegram_id.to_string()])
        .unwrap_or_else(|e| panic!("milly user show: {e}"));
    out.lines()
        .map(str::trim)
        .filter(|l| l.starts_with("vless://"))
        .map(str::to_owned)
        .collect()
}

/// The user's link to the node on `port`, as `milly user show` prints it.
pub fn link_to(home: &MillyHome, telegram_id: i64, port: u16) -> ClientLink {
    let links = printed_links(home, telegram_id);
    links
        .iter()
        .map(|l| ClientLink::parse(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .find(|link| link.port == port)
        .unwrap_or_else(|| panic!("no link to port {port} in {links:?}"))
}

/// Waits until `process` logged `needle`.
pub async fn wait_for_log(process: &Process, needle: &str) {
    let start = Instant::now();
    while !process.log().contains(needle) {
        assert!(
            start.elapsed() < WAIT,
            "{} never logged {needle:?}:\n{}",
            process.name(),
            process.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
