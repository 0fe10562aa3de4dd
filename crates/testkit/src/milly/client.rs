//! `milly client --link LINK ...` as a person runs it, ready once it printed its listeners.

use std::path::Path;
use std::time::{Duration, Instant};

use super::MillyError;
use crate::process::Process;

/// How long `milly client` may take to print its listeners.
pub const CLIENT_START_TIMEOUT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(20);

/// `milly client --link LINK ARGS...` in `dir`, once it printed `ready` " listening on " lines.
/// Readiness is read from its output, not probed, so every connection it counts is one the
/// test made.
pub async fn client(
    dir: &Path,
    link: &str,
    args: &[String],
    ready: usize,
) -> Result<Process, MillyError> {
    let mut all = vec!["client".to_owned(), "--link".to_owned(), link.to_owned()];
    all.extend_from_slice(args);
    let mut process = Process::spawn("milly-client", &super::binary(), &all, &[], dir)?;
    let start = Instant::now();
    while process.log().matches(" listening on ").count() < ready {
        if start.elapsed() > CLIENT_START_TIMEOUT || process.exit_status().is_some() {
            return Err(MillyError::ClientNotReady {
                waited: start.elapsed(),
                log: process.log(),
            });
        }
        tokio::time::sleep(POLL).await;
    }
    Ok(process)
}
