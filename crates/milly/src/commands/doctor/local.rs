//! What this machine gives `milly serve`: the descriptor limit, a private data directory, and
//! recent backups where `[backup]` says they go.

use std::path::Path;
use std::time::{Duration, SystemTime};

use rustix::process::{getrlimit, Resource};

use super::Finding;
use crate::fd_budget;

/// Below this hard limit the node's share is a few hundred connections at most.
pub const MIN_DESCRIPTORS: u64 = 1024;
/// Taken as the limit when the system reports none.
const UNLIMITED: u64 = 1 << 20;

pub fn check(c: &config::Config) -> Vec<Finding> {
    vec![descriptors(c), data_dir(&c.service.data_dir), backups(c)]
}

/// `milly serve` raises its soft limit to the hard one, so the hard limit is what it gets.
fn descriptors(c: &config::Config) -> Finding {
    const CHECK: &str = "descriptors";
    let limit = getrlimit(Resource::Nofile).maximum.unwrap_or(UNLIMITED);
    let budget = fd_budget::split(limit);
    let fix = "raise it: LimitNOFILE=65536 in the systemd unit, or `ulimit -Hn 65536` before \
               starting milly";
    if limit < MIN_DESCRIPTORS {
        return Finding::fail(
            CHECK,
            format!(
                "the descriptor limit is {limit} (at least {MIN_DESCRIPTORS} needed): the node \
                 could hold only {} connections; {fix}",
                budget.node_connections
            ),
        );
    }
    // `milly serve` lowers [node] max_connections to the budget, so a smaller budget is no
    // fault, but the operator should know the real cap.
    let lowered = if c.node.enabled && budget.node_connections < c.node.max_connections {
        format!(
            " ([node] max_connections {} is lowered to that)",
            c.node.max_connections
        )
    } else {
        String::new()
    };
    Finding::ok(
        CHECK,
        format!(
            "limit {limit}: room for {} node connections{lowered}",
            budget.node_connections
        ),
    )
}

/// The data directory holds the SQLite file and generated keys: nobody else may write there.
fn data_dir(dir: &Path) -> Finding {
    const CHECK: &str = "data directory";
    let shown = dir.display();
    let meta = match std::fs::metadata(dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Finding::ok(
                CHECK,
                format!("{shown} does not exist yet; `milly serve` creates it private (0700)"),
            )
        }
        Err(e) => return Finding::fail(CHECK, format!("cannot read {shown}: {e}")),
    };
    if !meta.is_dir() {
        return Finding::fail(
            CHECK,
            format!("{shown} is not a directory; set [service] data_dir to a directory"),
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o022 != 0 {
            return Finding::fail(
                CHECK,
                format!(
                    "{shown} is writable by others (mode {mode:03o}): anyone could replace the \
                     database or keys; run `chmod 700 {shown}`"
                ),
            );
        }
        let me = rustix::process::geteuid().as_raw();
        if meta.uid() != me {
            return Finding::warn(
                CHECK,
                format!(
                    "{shown} belongs to uid {}, not to uid {me} running this check; run milly \
                     as its owner or `chown` it",
                    meta.uid()
                ),
            );
        }
        if mode & 0o077 != 0 {
            return Finding::warn(
                CHECK,
                format!("{shown} is readable by others (mode {mode:03o}); run `chmod 700 {shown}`"),
            );
        }
    }
    Finding::ok(CHECK, format!("{shown} is private"))
}

/// With recipients set, backups are written every `interval_hours`: the newest must be younger
/// than two intervals.
fn backups(c: &config::Config) -> Finding {
    const CHECK: &str = "backups";
    let b = &c.backup;
    if b.recipients.is_empty() {
        return Finding::warn(
            CHECK,
            "off: no [backup] recipients; make a key with `age-keygen` and put its age1... \
             public key in [backup] recipients",
        );
    }
    let dir = crate::settings::app(c).backup.dir;
    let newest = newest_backup(&dir);
    let Some(newest) = newest else {
        return Finding::fail(
            CHECK,
            format!(
                "no backup in {} yet; run `milly backup create` now (and keep `milly serve` \
                 running: it writes one every [backup] interval_hours)",
                dir.display()
            ),
        );
    };
    let age = SystemTime::now()
        .duration_since(newest)
        .unwrap_or(Duration::ZERO);
    let hours = age.as_secs() / 3600;
    if b.interval_hours == 0 {
        return Finding::warn(
            CHECK,
            format!(
                "scheduled backups are off ([backup] interval_hours = 0); the newest in {} is \
                 {hours} h old",
                dir.display()
            ),
        );
    }
    let allowed = Duration::from_secs(u64::from(b.interval_hours) * 2 * 3600);
    if age > allowed {
        return Finding::fail(
            CHECK,
            format!(
                "the newest backup in {} is {hours} h old (every {} h expected); is `milly \
                 serve` running? `milly backup create` makes one now",
                dir.display(),
                b.interval_hours
            ),
        );
    }
    Finding::ok(
        CHECK,
        format!("the newest in {} is {hours} h old", dir.display()),
    )
}

/// When the newest `milly-*.age` in `dir` was written.
fn newest_backup(dir: &Path) -> Option<SystemTime> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with("milly-") && name.ends_with(".age")
        })
        .filter_map(|e| e.metadata().ok()?.modified().ok())
        .max()
}
