//! The ways an operator installs milly, checked with the tools that read them: `milly init
//! --systemd` writes units that `systemd-analyze verify` accepts, with the hardening the issue
//! asks for, and a configuration milly accepts; `contrib/compose.yaml` is valid for
//! docker-compose, and its environment is valid configuration for milly. (No Docker engine runs
//! here, so the image itself is not built in tests; the Dockerfile is checked for what it
//! promises.)
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::Command;

use testkit::reverse_proxy::require;
use testkit::MillyHome;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn init_systemd_writes_units_that_systemd_verifies() {
    let Some(analyze) = require(
        "systemd",
        &["/usr/bin/systemd-analyze", "/bin/systemd-analyze"],
    ) else {
        return;
    };
    let home = MillyHome::new("").unwrap();
    let root = home.dir().join("root");
    let etc = root.join("etc/milly");
    let units = root.join("units");
    let sysusers = root.join("sysusers.d");
    let args = [
        "init",
        "--dir",
        etc.to_str().unwrap(),
        "--systemd",
        "--unit-dir",
        units.to_str().unwrap(),
        "--sysusers-dir",
        sysusers.to_str().unwrap(),
    ];
    let out = init(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("systemctl daemon-reload"), "{printed}");

    for unit in ["milly.service", "milly-node.service"] {
        let path = units.join(unit);
        let verify = Command::new(&analyze)
            .arg("verify")
            .arg(&path)
            .current_dir(&units)
            .output()
            .unwrap();
        let complaints = String::from_utf8_lossy(&verify.stderr);
        assert!(
            verify.status.success() && complaints.trim().is_empty(),
            "systemd-analyze verify {unit}: {:?}\n{complaints}",
            verify.status
        );
        let text = std::fs::read_to_string(&path).unwrap();
        for line in [
            "User=milly",
            "AmbientCapabilities=CAP_NET_BIND_SERVICE",
            "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            "PrivateTmp=yes",
            "LimitNOFILE=1048576",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{unit} lacks {line}:\n{text}"
            );
        }
        let binary = testkit::milly::binary();
        assert!(
            text.contains(&format!("ExecStart={} ", binary.display())),
            "{unit} does not run this binary:\n{text}"
        );
    }
    let service = std::fs::read_to_string(units.join("milly.service")).unwrap();
    let config = etc.join("milly.toml");
    assert!(
        service.contains(&format!("serve --config {}\n", config.display())),
        "{service}"
    );
    assert!(
        service.contains("ExecReload=/bin/kill -HUP $MAINPID"),
        "{service}"
    );
    // systemd-sysusers makes the units' user from the entry (here into a root of the test's).
    let sysroot = root.join("sysroot");
    std::fs::create_dir_all(sysroot.join("etc")).unwrap();
    for file in ["passwd", "group", "shadow", "gshadow"] {
        std::fs::write(sysroot.join("etc").join(file), "").unwrap();
    }
    let sysusers_run = Command::new("systemd-sysusers")
        .arg(format!("--root={}", sysroot.display()))
        .arg(sysusers.join("milly.conf"))
        .output()
        .unwrap();
    assert!(
        sysusers_run.status.success(),
        "{}",
        String::from_utf8_lossy(&sysusers_run.stderr)
    );
    let passwd = std::fs::read_to_string(sysroot.join("etc/passwd")).unwrap();
    assert!(passwd.starts_with("milly:x:"), "{passwd}");
    assert!(passwd.contains(":/var/lib/milly:"), "{passwd}");

    // The configuration it wrote is valid and keeps its data where the unit lets it write.
    let check = milly(
        &root,
        &["config", "check", "--config", config.to_str().unwrap()],
    )
    .output()
    .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let effective = String::from_utf8_lossy(&check.stdout);
    assert!(effective.contains("/var/lib/milly"), "{effective}");
    assert!(service.contains("StateDirectory=milly\n"), "{service}");

    // A second run overwrites nothing.
    std::fs::remove_file(&config).unwrap();
    let again = init(&args);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("milly.service already exists"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}

fn milly(dir: &Path, args: &[&str]) -> Command {
    testkit::milly::cli::command(dir, args, &[])
}

fn init(args: &[&str]) -> std::process::Output {
    milly(Path::new("/"), args).output().unwrap()
}

#[test]
fn the_compose_example_is_valid_and_its_environment_is_valid_configuration() {
    let Some(compose) = require("docker-compose", &["/usr/bin/docker-compose"]) else {
        return;
    };
    let file = repo().join("contrib/compose.yaml");
    let resolved = Command::new(&compose)
        .arg("-f")
        .arg(&file)
        .arg("config")
        .env("POSTGRES_PASSWORD", "pw")
        .output()
        .unwrap();
    assert!(
        resolved.status.success(),
        "{}",
        String::from_utf8_lossy(&resolved.stderr)
    );
    let resolved = String::from_utf8_lossy(&resolved.stdout).into_owned();
    // Without the password it refuses to start, rather than run PostgreSQL with none.
    let unset = Command::new(&compose)
        .arg("-f")
        .arg(&file)
        .arg("config")
        .env_remove("POSTGRES_PASSWORD")
        .output()
        .unwrap();
    assert!(!unset.status.success());

    // milly's MILLY_* variables, as compose hands them to the container.
    let env: Vec<(String, String)> = resolved
        .lines()
        .filter_map(|l| l.trim().strip_prefix("MILLY_").map(str::to_owned))
        .filter_map(|l| {
            let (key, value) = l.split_once(": ")?;
            Some((format!("MILLY_{key}"), value.trim_matches('\'').to_owned()))
        })
        .collect();
    assert!(
        env.iter().any(|(k, _)| k == "MILLY_DATABASE__URL"),
        "{resolved}"
    );
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("milly.toml");
    assert!(init(&["init", "--dir", dir.path().to_str().unwrap()])
        .status
        .success());
    let mut check = milly(
        dir.path(),
        &["config", "check", "--config", config.to_str().unwrap()],
    );
    for (key, value) in &env {
        check.env(key, value);
    }
    let check = check.output().unwrap();
    assert!(
        check.status.success(),
        "compose's environment {env:?}: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    let effective = String::from_utf8_lossy(&check.stdout);
    assert!(effective.contains("0.0.0.0:443"), "{effective}");

    // The image: built in two stages, run as a user of its own, data on the volume compose
    // mounts, the command compose runs.
    let dockerfile = std::fs::read_to_string(repo().join("Dockerfile")).unwrap();
    assert_eq!(
        dockerfile
            .lines()
            .filter(|l| l.starts_with("FROM "))
            .count(),
        2
    );
    assert!(
        dockerfile.lines().any(|l| l == "USER milly"),
        "{dockerfile}"
    );
    assert!(dockerfile.contains("ENV MILLY_SERVICE__DATA_DIR=/var/lib/milly"));
    assert!(
        resolved.contains("target: /var/lib/milly") || resolved.contains(":/var/lib/milly"),
        "{resolved}"
    );
    assert!(
        dockerfile.contains(r#"CMD ["serve", "--config", "/etc/milly/milly.toml"]"#),
        "{dockerfile}"
    );
    assert!(resolved.contains("/etc/milly/milly.toml"), "{resolved}");
    let ignored = std::fs::read_to_string(repo().join(".dockerignore")).unwrap();
    assert!(ignored.lines().any(|l| l == "target"), "{ignored}");
}
