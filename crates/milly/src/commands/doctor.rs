//! `milly doctor`: checks what makes a deployment fail on day one, one line per check with
//! the fix, and a non-zero exit when something is wrong. Reads and probes only: it binds a
//! port for an instant to see that it is free, and changes nothing else.

mod accounts;
mod clock;
mod database;
mod https;
mod local;
mod ports;
mod public_host;
mod reality_dest;
mod webhook;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Result};

/// How long one check may take, network included.
const CHECK_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Warn,
    Fail,
    /// Not configured (no bot token, YooKassa off, not a REALITY node): nothing to check.
    Skipped,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Ok => "ok  ",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
            Status::Skipped => "skip",
        }
    }
}

/// One line of the report: what was checked, how it went, and the fix when it did not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub status: Status,
    pub check: String,
    pub message: String,
}

impl Finding {
    pub fn new(status: Status, check: impl Into<String>, message: impl Into<String>) -> Self {
        Finding {
            status,
            check: check.into(),
            message: message.into(),
        }
    }

    pub fn ok(check: impl Into<String>, message: impl Into<String>) -> Self {
        Finding::new(Status::Ok, check, message)
    }

    pub fn warn(check: impl Into<String>, message: impl Into<String>) -> Self {
        Finding::new(Status::Warn, check, message)
    }

    pub fn fail(check: impl Into<String>, message: impl Into<String>) -> Self {
        Finding::new(Status::Fail, check, message)
    }

    pub fn skipped(check: impl Into<String>, message: impl Into<String>) -> Self {
        Finding::new(Status::Skipped, check, message)
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.label(),
            self.check,
            self.message
        )
    }
}

/// Runs `check`, or reports that it did not finish within [`CHECK_TIMEOUT`].
async fn bounded(check: &str, run: impl Future<Output = Vec<Finding>>) -> Vec<Finding> {
    match tokio::time::timeout(CHECK_TIMEOUT, run).await {
        Ok(findings) => findings,
        Err(_) => vec![Finding::fail(
            check,
            format!(
                "no answer within {} s; check the network path to it",
                CHECK_TIMEOUT.as_secs()
            ),
        )],
    }
}

pub async fn run(path: &Path, explicit: bool, extra_ca: Option<PathBuf>) -> Result<()> {
    let loaded = match config::load(path, explicit) {
        Ok(loaded) => loaded,
        Err(e) => {
            println!(
                "{}",
                Finding::fail(
                    "config",
                    format!("{e}; fix it and run `milly doctor` again")
                )
            );
            bail!("the configuration is not valid");
        }
    };
    let c = &loaded.config;
    let source = match &loaded.source {
        config::ConfigSource::File(p) => format!("{} is valid", p.display()),
        config::ConfigSource::EmbeddedDefault => {
            "no file: the embedded defaults (run `milly init` for a real deployment)".to_owned()
        }
    };
    let mut findings = vec![Finding::ok("config", source)];
    let https = https::Trust::load(extra_ca.as_deref());

    let (ports, host, dest, clock, db, bot, yookassa, hook) = tokio::join!(
        bounded("ports", ports::check(c)),
        bounded("public host", public_host::check(c)),
        bounded("reality dest", reality_dest::check(c)),
        bounded("clock", clock::check(c)),
        bounded("database", database::check(c)),
        bounded("bot token", async { vec![accounts::bot_token(c).await] }),
        bounded("yookassa", async { vec![accounts::yookassa(c).await] }),
        bounded("webhook", async {
            match &https {
                Ok(trust) => webhook::check(c, trust).await,
                Err(e) => vec![Finding::fail("webhook", e.clone())],
            }
        }),
    );
    findings.extend(ports);
    findings.extend(host);
    findings.extend(dest);
    findings.extend(clock);
    findings.extend(local::check(c));
    findings.extend(db);
    findings.extend(bot);
    findings.extend(yookassa);
    findings.extend(hook);

    for finding in &findings {
        println!("{finding}");
    }
    let failed = findings.iter().filter(|f| f.status == Status::Fail).count();
    if failed > 0 {
        bail!("{failed} check(s) failed");
    }
    Ok(())
}
