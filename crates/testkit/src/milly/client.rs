//! `milly client --link LINK ...` as a person runs it, ready once it printed its listeners.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use super::MillyError;
use crate::port::free_tcp_addr;
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

/// A running `milly client` with a SOCKS5 port and forwards, all on free loopback ports.
pub struct ListeningClient {
    pub process: Process,
    pub socks: SocketAddr,
    /// One local address per forward target, in order.
    pub forwards: Vec<SocketAddr>,
}

/// `milly client --link LINK` in `dir` with a SOCKS5 port and a forward to each of `targets`,
/// each on a free port, once it listens on all of them.
pub async fn client_on_free_ports(
    dir: &Path,
    link: &str,
    targets: &[SocketAddr],
) -> Result<ListeningClient, MillyError> {
    let socks = free_tcp_addr();
    let forwards: Vec<SocketAddr> = targets.iter().map(|_| free_tcp_addr()).collect();
    let mut args = vec!["--socks".to_owned(), socks.to_string()];
    for (listen, target) in forwards.iter().zip(targets) {
        args.extend(["--forward".to_owned(), format!("{listen}={target}")]);
    }
    let process = client(dir, link, &args, 1 + targets.len()).await?;
    Ok(ListeningClient {
        process,
        socks,
        forwards,
    })
}
