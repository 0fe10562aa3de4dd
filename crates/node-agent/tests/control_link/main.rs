//! The node agent against the real control plane (`control` over `app` on SQLite) on loopback: enrollment and its refusals, the feed (a snapshot of several chunks, changes, reports), resume after a reconnect, the cache, certificate pinning and a node removed while connected.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod enroll;
mod feed;
mod logs;
mod plane;
mod reconnect;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use feed_wire::NodeSettings;
use node::access::unix_now;
use node::{AccessTable, CancellationToken};
use node_agent::{AgentConfig, Feed, Timing};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use vless::UserKey;

use plane::Plane;

/// How long a test waits for something either side should do.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// The name every test node is registered under.
pub const NODE: &str = "de-1";

/// Fast pacing, so reconnects and cache writes happen within a test's patience. The silence
/// limit stays the protocol's: the control plane pings only every `PING_INTERVAL`.
fn timing() -> Timing {
    Timing {
        connect_timeout: Duration::from_secs(2),
        backoff_min: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        silence_limit: feed_wire::SILENCE_LIMIT,
        stats_interval: Duration::from_secs(3600),
        cache_interval: Duration::from_millis(20),
    }
}

/// Registers [`NODE`] with `plane` and enrolls it in `dir` with its join string.
async fn enrolled(plane: &Plane, dir: &Path) -> AgentConfig {
    let registered = plane.add_node(NODE).await;
    let join = plane.join_string(&registered.token);
    let enrolled = node_agent::enroll(&join, dir).await.unwrap();
    AgentConfig::load(&enrolled.config_path).unwrap()
}

/// Polls `done` until it holds, failing the test after [`PATIENCE`].
async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A running agent and what it feeds.
struct Agent {
    table: AccessTable,
    settings: watch::Receiver<Option<NodeSettings>>,
    stop: CancellationToken,
    task: JoinHandle<Result<(), node_agent::RunError>>,
}

impl Agent {
    fn start(config: &AgentConfig) -> Self {
        Self::start_with(config, timing(), Arc::new(|| None))
    }

    fn start_with(config: &AgentConfig, timing: Timing, stats: node_agent::StatsSource) -> Self {
        let table = AccessTable::new();
        let (tx, settings) = watch::channel(None);
        let stop = CancellationToken::new();
        let feed = Feed {
            table: table.clone(),
            settings: tx,
            stats,
        };
        let config = config.clone();
        let token = stop.clone();
        let task = tokio::spawn(async move { node_agent::run(&config, feed, timing, token).await });
        Agent {
            table,
            settings,
            stop,
            task,
        }
    }

    fn allows(&self, key: &UserKey) -> bool {
        self.table.is_allowed(key, unix_now())
    }

    /// Waits until the table is at `revision`.
    async fn wait_for_revision(&self, revision: u64) {
        wait_for(&format!("the table at revision {revision}"), || {
            self.table.revision() == revision
        })
        .await;
    }

    /// Stops the agent and waits for it (it writes its cache on the way out).
    async fn stop(self) {
        self.stop.cancel();
        self.task.await.unwrap().unwrap();
    }
}
