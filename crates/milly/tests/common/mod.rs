//! Running the real `milly` binary from tests: one-shot commands and a `serve` process that is
//! stopped (SIGTERM) and reaped when dropped.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub fn milly_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_milly"))
}

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `milly` command in `dir` with a clean MILLY_* environment plus `env`.
pub fn milly(dir: &Path, args: &[&str], env: &[(&str, String)]) -> Command {
    let mut cmd = Command::new(milly_bin());
    cmd.current_dir(dir).args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("MILLY_") {
            cmd.env_remove(k);
        }
    }
    cmd.env_remove("RUST_LOG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(dir: &Path, args: &[&str], env: &[(&str, String)]) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = milly(dir, args, env).output().unwrap();
    Run {
        status: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// Runs and requires success, returning stdout.
pub fn ok(dir: &Path, args: &[&str], env: &[(&str, String)]) -> String {
    let r = run(dir, args, env);
    assert_eq!(
        r.status, 0,
        "milly {args:?} failed:\nstdout: {}\nstderr: {}",
        r.stdout, r.stderr
    );
    r.stdout
}

/// A running `milly serve`.
pub struct Serve {
    child: Option<Child>,
    pub stdout_lines: Vec<String>,
    lines: mpsc::Receiver<String>,
}

impl Serve {
    /// Starts `milly serve` and waits until it printed a line starting with `ready_prefix`.
    pub fn start(dir: &Path, args: &[&str], env: &[(&str, String)], ready_prefix: &str) -> Serve {
        let mut all_args = vec!["serve"];
        all_args.extend_from_slice(args);
        let mut child = milly(dir, &all_args, env)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut serve = Serve {
            child: Some(child),
            stdout_lines: Vec::new(),
            lines: rx,
        };
        serve.wait_for_line(ready_prefix, Duration::from_secs(60));
        serve
    }

    pub fn wait_for_line(&mut self, prefix: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(l) = self.stdout_lines.iter().find(|l| l.starts_with(prefix)) {
                return l.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.stdout_lines.push(line),
                Err(_) => panic!(
                    "milly serve never printed `{prefix}`; output: {:?}",
                    self.stdout_lines
                ),
            }
        }
    }

    /// SIGTERM, then the exit status (None if it had to be killed after `grace`).
    pub fn terminate(&mut self, grace: Duration) -> Option<i32> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        None
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Environment that puts the website and node on free loopback ports.
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

/// A plain HTTP/1.1 GET over loopback; returns (status, body).
pub fn http_get(port: u16, path: &str) -> (u16, String) {
    http_get_with(port, path, &[])
}

/// A plain HTTP/1.1 GET with extra headers; returns (status, body).
pub fn http_get_with(port: u16, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{extra}\r\n"
    )
    .unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// Every file under `dir`, recursively, with its raw bytes. SQLite removes its -wal and -shm
/// files as the last connection closes, which may still be under way while we list: a file that
/// is gone by the time it is read holds nothing to find, and is skipped.
pub fn files_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
            continue;
        }
        match std::fs::read(&path) {
            Ok(bytes) => out.push((path.display().to_string(), bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => panic!("cannot read {}: {e}", path.display()),
        }
    }
    out
}
