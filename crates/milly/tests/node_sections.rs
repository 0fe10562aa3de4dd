//! `[nodes.NAME]` sections of milly.toml, with the real binary: `milly serve` applies them to
//! the registered node at start (what `milly node show` prints changes), says so once, warns
//! about a section naming no registered node instead of refusing to start, and `milly node
//! set` refuses the keys the file names (the file wins) while taking the others.
//! (`milly` is the embedded node's default name in the config testkit writes.)
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use testkit::{free_port, MillyHome};

const SECTIONS: &str = r#"
[nodes.de-1]
location = "🇩🇪 Frankfurt"
address = "198.51.100.9:8443"
dest = "www.microsoft.com:443"
server_names = ["www.microsoft.com", "microsoft.com"]
position = 5

[nodes.ghost]
location = "nowhere"

[nodes.milly]
location = "the embedded node's name"
"#;

fn line<'a>(shown: &'a str, label: &str) -> &'a str {
    shown
        .lines()
        .find(|l| l.starts_with(label))
        .unwrap_or_else(|| panic!("no {label} in:\n{shown}"))
}

#[tokio::test]
async fn a_section_per_node_is_applied_at_start_and_wins_over_node_set() {
    let control = format!("[control]\nlisten = \"127.0.0.1:{}\"\n", free_port());
    let home = MillyHome::new(&control).unwrap();
    home.run(&[
        "node",
        "add",
        "de-1",
        "--address",
        "203.0.113.5:443",
        "--location",
        "DE",
        "--dest",
        "www.example.org:443",
    ])
    .unwrap();
    let before = home.run(&["node", "show", "de-1"]).unwrap();
    assert!(line(&before, "location:").ends_with(" DE"), "{before}");

    let config = home.dir().join("milly.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(SECTIONS);
    std::fs::write(&config, text).unwrap();

    let mut serve = home.serve().await.unwrap();
    let log = serve.log();
    assert!(
        log.contains(
            "nodes: de-1 now has its location, address, dest, server_names, position from milly.toml"
        ),
        "{log}"
    );
    assert!(
        log.contains("[nodes.ghost] but no remote node is called `ghost`")
            && log.contains("milly node add ghost"),
        "{log}"
    );
    assert!(
        log.contains("`milly` is the embedded node: its settings are under [node]"),
        "{log}"
    );
    serve.terminate(Duration::from_secs(10)).await;

    let shown = home.run(&["node", "show", "de-1"]).unwrap();
    assert!(
        line(&shown, "location:").ends_with(" 🇩🇪 Frankfurt"),
        "{shown}"
    );
    assert!(
        line(&shown, "address:").ends_with(" 198.51.100.9:8443"),
        "{shown}"
    );
    assert!(
        line(&shown, "security:").contains("sni www.microsoft.com,"),
        "{shown}"
    );
    assert!(line(&shown, "position:").ends_with(" 5"), "{shown}");

    // The file names the location: `node set` refuses it, and takes what the file leaves out.
    let refused = home
        .command(&["node", "set", "de-1", "location=Berlin"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("[nodes.de-1] location"), "{stderr}");
    home.run(&["node", "set", "de-1", "keys=rotate"]).unwrap();
    home.run(&["node", "disable", "de-1"])
        .expect("the file does not name `enabled`");

    // Applied already: a second start has nothing to say about de-1.
    let mut serve = home.serve().await.unwrap();
    assert!(!serve.log().contains("nodes: de-1"), "{}", serve.log());
    serve.terminate(Duration::from_secs(10)).await;
}
