//! `milly serve` started with [`super::cli::command`], ready once it printed a line (e.g.
//! `website:`), and stopped with SIGTERM as an operator's service manager stops it.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::process::Process;

/// How long `serve` may take to print its ready line (first start creates the database).
const READY_TIMEOUT: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(20);

/// A running `milly serve`; killed when dropped. Its stdout and stderr go to a log outside the
/// test's directory, so that directory holds only what milly wrote.
pub struct Serve {
    // Field order matters: the process dies before its log's directory goes away.
    process: Process,
    _log_dir: tempfile::TempDir,
}

impl Serve {
    /// Starts `milly serve ARGS` in `dir` with `env` and waits until it printed a line starting
    /// with `ready_prefix`. Fails the test if it does not.
    pub fn start(dir: &Path, args: &[&str], env: &[(&str, String)], ready_prefix: &str) -> Serve {
        let mut all_args = vec!["serve"];
        all_args.extend_from_slice(args);
        let log_dir = tempfile::tempdir().expect("a temp dir for milly serve's log");
        let process = Process::start(
            "milly-serve",
            super::cli::command(dir, &all_args, env),
            log_dir.path(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let mut serve = Serve {
            process,
            _log_dir: log_dir,
        };
        serve.wait_for_line(ready_prefix, READY_TIMEOUT);
        serve
    }

    /// Every line it printed so far.
    pub fn lines(&self) -> Vec<String> {
        self.process.log().lines().map(str::to_owned).collect()
    }

    /// The first line starting with `prefix`, waiting for it at most `timeout`.
    pub fn wait_for_line(&mut self, prefix: &str, timeout: Duration) -> String {
        let start = Instant::now();
        loop {
            if let Some(line) = self.lines().into_iter().find(|l| l.starts_with(prefix)) {
                return line;
            }
            let exited = self.process.exit_status();
            assert!(
                exited.is_none() && start.elapsed() < timeout,
                "milly serve never printed `{prefix}` (exit: {exited:?}); output: {:?}",
                self.lines()
            );
            std::thread::sleep(POLL);
        }
    }

    /// SIGTERM, then the exit code once it exited within `grace` (`None` if it did not and
    /// had to be killed, or a signal ended it).
    pub fn terminate(&mut self, grace: Duration) -> Option<i32> {
        self.process.terminate_blocking(grace)?.code()
    }
}
