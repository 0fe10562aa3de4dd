//! The milly binary as a person runs it: a config in a temp dir, `milly serve` in the background
//! and one-shot CLI commands such as `milly user add` next to it. [`binary`] finds the build.
//!
//! - [`MillyHome`]: a generated `milly.toml` with both listeners on free ports, `serve`, `run`.
//! - [`cli`]: commands in a directory of the test's choosing, config through the environment.
//! - [`Serve`]: `milly serve` started that way, ready once it printed a line; SIGTERM to stop.
//! - [`Node`]: a home serving, whose users the node admits within a second.
//! - [`client`]: `milly client`, ready once it printed its listeners.

pub mod cli;
mod client;
mod node;
pub mod remote;
mod serve;

pub use self::client::{client, client_on_free_ports, ListeningClient, CLIENT_START_TIMEOUT};
pub use node::{Node, ADMIT_DEADLINE};
pub use serve::Serve;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use ::client::{ClientLink, LinkError};

use crate::echo::{EchoMode, TcpEcho};
use crate::port::free_tcp_addr;
use crate::probe;
use crate::process::{Process, ProcessError};

/// The `milly` binary cargo built next to the running test (`target/<profile>/milly`).
/// Cargo builds a package's binaries before its integration tests, so milly's whole-system
/// tests always find it; other packages' tests would need `cargo build -p milly` first.
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    // target/<profile>/deps/<test binary> -> target/<profile>/milly
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .unwrap_or_else(|| Path::new("."));
    profile_dir.join(format!("milly{}", std::env::consts::EXE_SUFFIX))
}

/// How long `milly serve` may take to open its node port (first start creates the database).
pub const SERVE_TIMEOUT: Duration = Duration::from_secs(60);
/// How often `wait_admitted` asks the node again.
const ADMIT_POLL: Duration = Duration::from_millis(25);

#[derive(Debug, thiserror::Error)]
pub enum MillyError {
    #[error("cannot prepare milly's directory: {0}")]
    Io(#[from] std::io::Error),
    #[error("`milly {args}` exited with {status}:\nstdout: {stdout}\nstderr: {stderr}")]
    Failed {
        args: String,
        status: String,
        stdout: String,
        stderr: String,
    },
    #[error("`milly user add` printed no vless:// link:\n{0}")]
    NoLink(String),
    #[error("milly printed a link `milly client` cannot parse: {0}")]
    Link(#[from] LinkError),
    #[error(transparent)]
    Process(#[from] ProcessError),
    #[error("the node did not admit the user within {0:?}")]
    NotAdmitted(Duration),
    #[error("probing the node: {0}")]
    Probe(#[from] crate::tls::TlsError),
    #[error("`milly client` did not start within {waited:?}; its log:\n{log}")]
    ClientNotReady { waited: Duration, log: String },
}

/// A milly installation in a temp dir: `milly.toml` with the website and the node on free
/// loopback ports, the node allowed to reach loopback destinations (the echo servers).
pub struct MillyHome {
    bin: PathBuf,
    config: PathBuf,
    web: SocketAddr,
    node: SocketAddr,
    dir: tempfile::TempDir,
}

impl MillyHome {
    /// `extra` is appended to the generated `milly.toml` (e.g. more sections).
    pub fn new(extra: &str) -> Result<Self, MillyError> {
        Self::with_binary(&binary(), extra)
    }

    /// [`MillyHome::new`] running another program than [`binary`] (testkit's own tests).
    pub fn with_binary(bin: &Path, extra: &str) -> Result<Self, MillyError> {
        let dir = tempfile::tempdir()?;
        let web = free_tcp_addr();
        let node = free_tcp_addr();
        let config = dir.path().join("milly.toml");
        std::fs::write(
            &config,
            format!(
                "# written by testkit for one test\n\
                 [web]\nlisten = \"{web}\"\n\n\
                 [node]\nlisten = \"{node}\"\npublic_host = \"{host}\"\n\
                 allow_private_destinations = true\n\n{extra}",
                host = node.ip(),
            ),
        )?;
        Ok(MillyHome {
            bin: bin.to_owned(),
            config,
            web,
            node,
            dir,
        })
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn web_addr(&self) -> SocketAddr {
        self.web
    }

    pub fn node_addr(&self) -> SocketAddr {
        self.node
    }

    /// The admin API's bearer token `milly serve` generated in its data directory.
    pub fn admin_token(&self) -> Result<String, MillyError> {
        let token = std::fs::read_to_string(self.dir().join("milly-data/admin-token"))?;
        Ok(token.trim().to_owned())
    }

    /// `milly --config <ours> <args>` with none of the caller's `MILLY_*` variables (CI sets
    /// some for other tests, and every one of them would override our config).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.current_dir(self.dir.path())
            .arg("--config")
            .arg(&self.config)
            .args(args);
        cli::clear_milly_env(&mut cmd);
        cmd
    }

    /// Runs a one-shot command to completion and returns its stdout.
    pub fn run(&self, args: &[&str]) -> Result<String, MillyError> {
        let out = self.command(args).output()?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            return Err(MillyError::Failed {
                args: args.join(" "),
                status: out.status.to_string(),
                stdout,
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            });
        }
        Ok(stdout)
    }

    /// Starts `milly serve` and waits until the node accepts connections. Killed on drop.
    pub async fn serve(&self) -> Result<Process, MillyError> {
        let mut process = Process::start("milly-serve", self.command(&["serve"]), self.dir.path())?;
        process.wait_for_tcp(self.node, SERVE_TIMEOUT).await?;
        Ok(process)
    }

    /// `milly user add --telegram-id N --days D`, and the first `vless://` link it printed.
    pub fn add_user(&self, telegram_id: i64, days: u32) -> Result<ClientLink, MillyError> {
        Ok(ClientLink::parse(
            &self.add_user_printed(telegram_id, days)?,
        )?)
    }

    /// [`MillyHome::add_user`]'s link exactly as milly printed it, for a person to paste.
    pub fn add_user_printed(&self, telegram_id: i64, days: u32) -> Result<String, MillyError> {
        let out = self.run(&[
            "user",
            "add",
            "--telegram-id",
            &telegram_id.to_string(),
            "--days",
            &days.to_string(),
        ])?;
        let link = out
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with("vless://"))
            .ok_or_else(|| MillyError::NoLink(out.clone()))?;
        Ok(link.to_owned())
    }
}

/// What to append to [`MillyHome::new`]'s config for a REALITY node in front of `dest`: the
/// `[node]` security line and a `[node.reality]` section (more of its keys may follow).
/// `private_key` is base64url, as `milly keygen reality` prints it.
pub fn reality_config(
    private_key: &str,
    short_id: &str,
    server_name: &str,
    dest: SocketAddr,
) -> String {
    format!(
        "security = \"reality\"\n\n[node.reality]\nprivate_key = \"{private_key}\"\n\
         short_ids = [\"{short_id}\"]\nserver_names = [\"{server_name}\"]\ndest = \"{dest}\"\n"
    )
}

/// Waits until the node at `node` proxies for the link's user, the way the node learns of users:
/// through its access feed, a moment after `milly user add` returns. Returns how long it took.
pub async fn wait_admitted(
    node: SocketAddr,
    link: &ClientLink,
    limit: Duration,
) -> Result<Duration, MillyError> {
    let echo = TcpEcho::start(EchoMode::Stream).await?;
    let SocketAddr::V4(echo_addr) = echo.addr() else {
        return Err(MillyError::NotAdmitted(limit));
    };
    let start = Instant::now();
    while start.elapsed() < limit {
        let wait = Duration::from_secs(1);
        if probe::vless_admits(node, &link.server_name, &link.user_id, echo_addr, wait).await? {
            return Ok(start.elapsed());
        }
        tokio::time::sleep(ADMIT_POLL).await;
    }
    Err(MillyError::NotAdmitted(limit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_puts_both_listeners_on_loopback_and_allows_private_destinations() {
        let home = MillyHome::with_binary(Path::new("/bin/true"), "[trial]\ndays = 1\n").unwrap();
        let text = std::fs::read_to_string(home.dir().join("milly.toml")).unwrap();
        assert!(text.contains(&format!("listen = \"{}\"", home.node_addr())));
        assert!(text.contains(&format!("listen = \"{}\"", home.web_addr())));
        assert!(text.contains("allow_private_destinations = true"));
        assert!(text.ends_with("[trial]\ndays = 1\n"));
        assert_ne!(home.web_addr(), home.node_addr());
    }

    #[test]
    fn the_reality_config_continues_the_node_table_and_opens_node_reality() {
        let dest = "127.0.0.1:9443".parse().unwrap();
        let home = MillyHome::with_binary(
            Path::new("/bin/true"),
            &reality_config("KEY", "ab", "www.example.com", dest),
        )
        .unwrap();
        let text = std::fs::read_to_string(home.dir().join("milly.toml")).unwrap();
        let parsed: toml::Table = text.parse().unwrap();
        assert_eq!(parsed["node"]["security"].as_str(), Some("reality"));
        let reality = &parsed["node"]["reality"];
        assert_eq!(reality["private_key"].as_str(), Some("KEY"));
        assert_eq!(reality["short_ids"][0].as_str(), Some("ab"));
        assert_eq!(reality["server_names"][0].as_str(), Some("www.example.com"));
        assert_eq!(reality["dest"].as_str(), Some("127.0.0.1:9443"));
    }

    #[test]
    fn commands_carry_our_config_and_none_of_the_callers_milly_variables() {
        let home = MillyHome::with_binary(Path::new("/usr/bin/env"), "").unwrap();
        // CI runs with MILLY_TEST_POSTGRES_URL set, which must not reach milly's config.
        let cmd = home.command(&[]);
        let args: Vec<_> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(args[0], "--config");
        assert!(args[1].ends_with("milly.toml"));
        let removed: Vec<_> = cmd
            .get_envs()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| k.to_string_lossy().into_owned())
            .collect();
        for (k, _) in std::env::vars() {
            if k.starts_with("MILLY_") {
                assert!(removed.contains(&k), "{k} leaks into milly's env");
            }
        }
    }
}
