//! README.md's "Deploy on a server" walk stays true: every command in it is either run here
//! (in a directory of the test's own instead of `/etc`) or named with the test that exercises
//! it, and a command added to the page without either fails this test. Its configuration
//! block, merged into what `milly init` wrote, is a configuration milly accepts.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::path::{Path, PathBuf};

const SECTION: &str = "## Deploy on a server";

/// Who exercises a command of the walk.
enum Exercised {
    /// This test runs it.
    Here,
    /// A test elsewhere: file under the repository and function name.
    By(&'static str, &'static str),
    /// The operator's own system (packages, systemd, file ownership): not run by tests; the
    /// reason says what stands in for it.
    System(&'static str),
}

/// Every command the walk may contain, by its first words.
const COMMANDS: &[(&str, Exercised)] = &[
    (
        "cargo build --release",
        Exercised::System("the release build is .ci/readme-run's"),
    ),
    (
        "install -m 0755 target/release/milly /usr/local/bin/milly",
        Exercised::System("copies the binary; the units run whichever binary ran init"),
    ),
    ("milly init --dir /etc/milly --systemd", Exercised::Here),
    (
        "systemd-sysusers",
        Exercised::By(
            "crates/milly/tests/install.rs",
            "init_systemd_writes_units_that_systemd_verifies",
        ),
    ),
    (
        "chgrp milly /etc/milly/milly.toml",
        Exercised::System("needs the milly group on the host"),
    ),
    (
        "chmod 0640 /etc/milly/milly.toml",
        Exercised::System("follows chgrp"),
    ),
    (
        "milly doctor --config /etc/milly/milly.toml",
        Exercised::Here,
    ),
    (
        "systemctl daemon-reload",
        Exercised::System(
            "systemd itself; the units it loads pass `systemd-analyze verify` in tests/install.rs",
        ),
    ),
    (
        "systemctl enable --now milly",
        Exercised::System(
            "systemd itself; the units it loads pass `systemd-analyze verify` in tests/install.rs",
        ),
    ),
    (
        "curl https://vpn.example.com/healthz",
        Exercised::By(
            "crates/milly/tests/acme.rs",
            "pebble_issues_and_renews_the_sites_certificate_and_a_restart_reuses_it",
        ),
    ),
];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The section's fenced blocks with their info string: ("sh", text), ("toml", text).
fn blocks() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let start = readme
        .find(SECTION)
        .expect("README.md has the Deploy section");
    let rest = &readme[start + SECTION.len()..];
    let section = &rest[..rest.find("\n## ").unwrap_or(rest.len())];
    let mut blocks = Vec::new();
    let mut lines = section.lines();
    while let Some(line) = lines.next() {
        if let Some(info) = line.strip_prefix("```") {
            let body: Vec<&str> = lines
                .by_ref()
                .take_while(|l| !l.starts_with("```"))
                .collect();
            blocks.push((info.trim().to_owned(), body.join("\n")));
        }
    }
    blocks
}

/// The walk's commands: each line of its sh blocks, split at `&&`, comments dropped.
fn commands() -> Vec<String> {
    blocks()
        .into_iter()
        .filter(|(info, _)| info == "sh")
        .flat_map(|(_, body)| {
            body.lines()
                .map(|l| l.split('#').next().unwrap_or("").trim().to_owned())
                .filter(|l| !l.is_empty())
                .flat_map(|l| {
                    l.split("&&")
                        .map(|c| c.trim().to_owned())
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

fn exercised(command: &str) -> Option<&'static Exercised> {
    COMMANDS
        .iter()
        .find(|(known, _)| command == *known)
        .map(|(_, how)| how)
}

#[test]
fn every_command_of_the_walk_is_exercised_or_said_not_to_be() {
    let commands = commands();
    assert!(commands.len() >= 8, "{commands:?}");
    for command in &commands {
        match exercised(command) {
            None => panic!(
                "README's Deploy walk has `{command}`, which no test exercises: add it to COMMANDS"
            ),
            Some(Exercised::By(file, function)) => {
                let source = std::fs::read_to_string(repo().join(file)).unwrap();
                assert!(
                    source.contains(&format!("fn {function}(")),
                    "`{command}` is said to be exercised by {file}::{function}, which does not exist"
                );
            }
            Some(Exercised::System(reason)) => {
                assert!(!reason.is_empty());
                eprintln!("not run by tests: `{command}`: {reason}");
            }
            Some(Exercised::Here) => {}
        }
    }
    // Nothing listed that the walk no longer has.
    for (known, _) in COMMANDS {
        assert!(
            commands.iter().any(|c| c == known),
            "`{known}` is no longer in the walk"
        );
    }
}

#[test]
fn the_walk_runs_init_then_its_configuration_is_accepted_and_doctor_checks_it() {
    let root = tempfile::tempdir().unwrap();
    let etc = root.path().join("etc/milly");
    let sandbox = |command: &str| -> Vec<String> {
        command
            .replace("/etc/milly", etc.to_str().unwrap())
            .split_whitespace()
            .skip(1) // "milly"
            .map(str::to_owned)
            .collect()
    };
    let commands = commands();
    let init = commands
        .iter()
        .find(|c| c.starts_with("milly init"))
        .unwrap();
    let mut args = sandbox(init);
    for (flag, dir) in [("--unit-dir", "units"), ("--sysusers-dir", "sysusers.d")] {
        args.push(flag.to_owned());
        args.push(root.path().join(dir).to_str().unwrap().to_owned());
    }
    run(root.path(), &args, 0);

    // The page's configuration, key by key over what init wrote.
    let config = etc.join("milly.toml");
    let written: toml::Table = std::fs::read_to_string(&config).unwrap().parse().unwrap();
    let (_, edits) = blocks()
        .into_iter()
        .find(|(info, _)| info == "toml")
        .unwrap();
    // The page's placeholder for @BotFather's token, as a token of the right shape.
    let edits = edits.replace(
        "123456789:AA...",
        "123456789:AAFakeTokenOfTheRightShape_0123456789",
    );
    let edits: toml::Table = edits.parse().unwrap();
    let merged = merge(written, edits);
    std::fs::write(&config, toml::to_string(&merged).unwrap()).unwrap();
    let check = run(
        root.path(),
        &[
            "config".into(),
            "check".into(),
            "--config".into(),
            config.to_str().unwrap().into(),
        ],
        0,
    );
    assert!(check.contains("vpn.example.com"), "{check}");

    // doctor runs on it and, with no such domain and no Telegram here, says what is wrong.
    let doctor = commands
        .iter()
        .find(|c| c.starts_with("milly doctor"))
        .unwrap();
    let out = run(root.path(), &sandbox(doctor), 1);
    assert!(out.lines().count() >= 5, "{out}");
}

fn merge(mut base: toml::Table, edits: toml::Table) -> toml::Table {
    for (key, value) in edits {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(section)), toml::Value::Table(changes)) => {
                let merged = merge(std::mem::take(section), changes);
                *section = merged;
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
    base
}

/// Runs milly with `args` in `dir`, expecting exit code `code`; its stdout.
fn run(dir: &Path, args: &[String], code: i32) -> String {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = testkit::milly::cli::run(dir, &args, &[]);
    assert_eq!(
        out.status, code,
        "milly {args:?}: stdout\n{}\nstderr\n{}",
        out.stdout, out.stderr
    );
    out.stdout
}
