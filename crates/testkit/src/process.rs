//! A child process for a test: output captured to a log file, killed and reaped on drop, and its
//! log printed when the test that owns it fails.

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How many lines of a process's log a failing test prints.
const LOG_TAIL_LINES: usize = 60;
/// How often a readiness probe retries.
const POLL: Duration = Duration::from_millis(50);

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("cannot start {name}: {source}")]
    Spawn { name: String, source: io::Error },
    #[error("{name} exited ({status}) before it was ready; its log:\n{log}")]
    Exited {
        name: String,
        status: ExitStatus,
        log: String,
    },
    #[error("{name} did not accept connections on {addr} within {waited:?}; its log:\n{log}")]
    NotReady {
        name: String,
        addr: SocketAddr,
        waited: Duration,
        log: String,
    },
    #[error("cannot write the config of {name}: {source}")]
    Config { name: String, source: io::Error },
}

pub struct Process {
    name: String,
    child: Child,
    log_path: PathBuf,
}

impl Process {
    /// Starts `program` with `args` and `envs`, in `workdir`, its stdout and stderr appended to
    /// `workdir/<name>.log`.
    pub fn spawn<I, S>(
        name: &str,
        program: &Path,
        args: I,
        envs: &[(&str, &str)],
        workdir: &Path,
    ) -> Result<Self, ProcessError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(program);
        cmd.args(args).current_dir(workdir);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        Self::start(name, cmd, workdir)
    }

    /// Starts a prepared command, its stdout and stderr appended to `log_dir/<name>.log`.
    pub fn start(name: &str, mut cmd: Command, log_dir: &Path) -> Result<Self, ProcessError> {
        let spawn_err = |source| ProcessError::Spawn {
            name: name.to_owned(),
            source,
        };
        let log_path = log_dir.join(format!("{name}.log"));
        let log = File::create(&log_path).map_err(spawn_err)?;
        let log_err = log.try_clone().map_err(spawn_err)?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(spawn_err)?;
        Ok(Process {
            name: name.to_owned(),
            child,
            log_path,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// Everything the process printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// `Some(status)` once the process has exited.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Waits until something accepts TCP connections on `addr`, failing early if the process
    /// exits first.
    pub async fn wait_for_tcp(
        &mut self,
        addr: SocketAddr,
        timeout: Duration,
    ) -> Result<(), ProcessError> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.exit_status() {
                return Err(ProcessError::Exited {
                    name: self.name.clone(),
                    status,
                    log: self.log(),
                });
            }
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                return Ok(());
            }
            if start.elapsed() > timeout {
                return Err(ProcessError::NotReady {
                    name: self.name.clone(),
                    addr,
                    waited: timeout,
                    log: self.log(),
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits for the process to exit by itself, for at most `timeout`.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Some(status) = self.exit_status() {
                return Some(status);
            }
            tokio::time::sleep(POLL).await;
        }
        None
    }

    /// [`Process::wait_exit`] for tests without a runtime.
    pub fn wait_exit_blocking(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Some(status) = self.exit_status() {
                return Some(status);
            }
            std::thread::sleep(POLL);
        }
        None
    }

    /// Asks the process to shut down as systemd and Docker do: SIGTERM.
    pub fn sigterm(&self) -> io::Result<()> {
        self.signal("TERM")
    }

    /// Sends signal `name` (`HUP`, `TERM`, ...) through `kill`: std sends no other signal than
    /// SIGKILL.
    pub fn signal(&self, name: &str) -> io::Result<()> {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.id().to_string()])
            .status()?;
        if status.success() {
            Ok(())
        } else {
            Err(io::Error::other(format!(
                "kill -{name} {} {status}",
                self.id()
            )))
        }
    }

    /// SIGTERM, then its exit status once it has exited, for at most `grace`; `None` if it is
    /// still running (it is killed when dropped).
    pub async fn terminate(&mut self, grace: Duration) -> Option<ExitStatus> {
        self.sigterm().ok()?;
        self.wait_exit(grace).await
    }

    /// [`Process::terminate`] for tests without a runtime.
    pub fn terminate_blocking(&mut self, grace: Duration) -> Option<ExitStatus> {
        self.sigterm().ok()?;
        self.wait_exit_blocking(grace)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // Killing an already exited child fails harmlessly; wait() reaps it either way.
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = self.log();
            let lines: Vec<&str> = log.lines().collect();
            let tail = &lines[lines.len().saturating_sub(LOG_TAIL_LINES)..];
            eprintln!(
                "---- last {} lines of {} ({}) ----\n{}\n----",
                tail.len(),
                self.name,
                self.log_path.display(),
                tail.join("\n")
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn output_lands_in_the_log_and_an_early_exit_is_reported_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = Process::spawn(
            "shell",
            Path::new("/bin/sh"),
            ["-c", "echo out; echo err >&2; exit 3"],
            &[],
            dir.path(),
        )
        .unwrap();
        let addr = crate::port::free_tcp_addr();
        let err = p
            .wait_for_tcp(addr, Duration::from_secs(5))
            .await
            .unwrap_err();
        match err {
            ProcessError::Exited { status, log, .. } => {
                assert_eq!(status.code(), Some(3));
                assert!(log.contains("out") && log.contains("err"), "{log}");
            }
            other => panic!("unexpected {other}"),
        }
    }

    #[tokio::test]
    async fn sigterm_ends_a_process_and_its_exit_status_is_returned() {
        let dir = tempfile::tempdir().unwrap();
        let script = "trap 'exit 7' TERM; echo ready; while true; do sleep 0.05; done";
        let mut p = Process::spawn(
            "trapper",
            Path::new("/bin/sh"),
            ["-c", script],
            &[],
            dir.path(),
        )
        .unwrap();
        while !p.log().contains("ready") {
            tokio::time::sleep(POLL).await;
        }
        let status = p.terminate(Duration::from_secs(5)).await;
        assert_eq!(status.and_then(|s| s.code()), Some(7));
    }

    #[tokio::test]
    async fn a_process_that_never_listens_times_out_and_is_killed_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let mut p =
            Process::spawn("sleeper", Path::new("/bin/sleep"), ["30"], &[], dir.path()).unwrap();
        let pid = p.id();
        let err = p
            .wait_for_tcp(crate::port::free_tcp_addr(), Duration::from_millis(200))
            .await
            .unwrap_err();
        assert!(matches!(err, ProcessError::NotReady { .. }));
        drop(p);
        assert!(!Path::new(&format!("/proc/{pid}")).exists());
    }
}
