//! `milly` commands in a directory of the test's choosing, configured through the environment
//! (or a config the test wrote, or none: embedded defaults), as an operator types them.

use std::path::Path;
use std::process::Command;

use crate::port::free_port;

/// `milly ARGS` in `dir` with none of the caller's `MILLY_*` variables nor `RUST_LOG`, plus
/// `env`.
pub fn command(dir: &Path, args: &[&str], env: &[(&str, String)]) -> Command {
    let mut cmd = Command::new(super::binary());
    cmd.current_dir(dir).args(args);
    clear_milly_env(&mut cmd);
    cmd.env_remove("RUST_LOG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Removes the caller's `MILLY_*` variables: CI sets some for other tests (the PostgreSQL
/// URL), and every one of them would override the test's configuration.
pub(crate) fn clear_milly_env(cmd: &mut Command) {
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("MILLY_") {
            cmd.env_remove(k);
        }
    }
}

/// What a finished command printed, and its exit code (-1 when a signal ended it).
#[derive(Debug)]
pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `milly ARGS` to completion. Panics (failing the test) only if it cannot be started.
pub fn run(dir: &Path, args: &[&str], env: &[(&str, String)]) -> Run {
    let out = command(dir, args, env)
        .output()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", super::binary().display()));
    Run {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `milly ARGS` and requires success: its stdout. A failure fails the test with both
/// outputs.
pub fn ok(dir: &Path, args: &[&str], env: &[(&str, String)]) -> String {
    let r = run(dir, args, env);
    assert_eq!(
        r.status, 0,
        "milly {args:?} failed:\nstdout: {}\nstderr: {}",
        r.stdout, r.stderr
    );
    r.stdout
}

/// The environment that puts the website and the node on free loopback ports (and the
/// website's public URL on its port), with the two ports: `(env, web, node)`.
pub fn ports_env() -> (Vec<(&'static str, String)>, u16, u16) {
    let web = free_port();
    let node = free_port();
    (
        vec![
            ("MILLY_WEB__LISTEN", format!("127.0.0.1:{web}")),
            ("MILLY_NODE__LISTEN", format!("127.0.0.1:{node}")),
            (
                "MILLY_SERVICE__PUBLIC_URL",
                format!("http://127.0.0.1:{web}"),
            ),
        ],
        web,
        node,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_drop_the_callers_milly_variables_and_log_level_and_add_the_tests() {
        let cmd = command(Path::new("/"), &["--version"], &[("MILLY_X", "1".into())]);
        let envs: Vec<_> = cmd
            .get_envs()
            .map(|(k, v)| (k.to_string_lossy().into_owned(), v.is_some()))
            .collect();
        assert!(envs.contains(&("RUST_LOG".to_owned(), false)));
        assert!(envs.contains(&("MILLY_X".to_owned(), true)));
        for (k, _) in std::env::vars() {
            if k.starts_with("MILLY_") && k != "MILLY_X" {
                assert!(
                    envs.contains(&(k.clone(), false)),
                    "{k} leaks into milly's env"
                );
            }
        }
    }

    #[test]
    fn the_ports_env_names_both_listeners_and_a_public_url_on_the_website() {
        let (env, web, node) = ports_env();
        assert_ne!(web, node);
        assert_eq!(env[0].1, format!("127.0.0.1:{web}"));
        assert_eq!(env[1].1, format!("127.0.0.1:{node}"));
        assert_eq!(env[2].1, format!("http://127.0.0.1:{web}"));
    }
}
