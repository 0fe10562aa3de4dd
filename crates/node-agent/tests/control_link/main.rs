//! The node agent against a control plane on loopback: enrollment, the feed (chunked snapshots, changes, pings), reconnection with resume, the cache, and certificate pinning.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod enroll;
mod feed;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use feed_wire::{NodeSettings, SecuritySettings, ToControl, ToNode};
use node::{AccessTable, CancellationToken};
use node_agent::{AgentConfig, Feed, Timing};
use testkit::feed_control::{Conn, FakeControl};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Fast pacing, so reconnects and cache writes happen within a test's patience.
fn timing() -> Timing {
    Timing {
        connect_timeout: Duration::from_secs(2),
        backoff_min: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        silence_limit: Duration::from_secs(5),
        stats_interval: Duration::from_secs(3600),
        cache_interval: Duration::from_millis(20),
    }
}

fn settings(port: u16) -> NodeSettings {
    NodeSettings {
        port,
        security: SecuritySettings::Reality {
            private_key: [0x11; 32],
            short_ids: vec!["0123abcd".into()],
            dest: "www.example.com:443".into(),
            server_names: vec!["www.example.com".into()],
            max_time_diff_ms: 0,
            mldsa65_seed: None,
        },
    }
}

/// Enrolls a node in `dir` with `fake`, answering its join with the name `de-1`.
async fn enrolled(fake: &mut FakeControl, dir: &Path) -> AgentConfig {
    let join = fake.join_string([3; 32]);
    let dir = dir.to_owned();
    let joining = tokio::spawn(async move { node_agent::enroll(&join, &dir).await });
    let mut conn = fake.accept().await;
    assert!(matches!(conn.recv().await, ToControl::Join { .. }));
    conn.send(&ToNode::Joined {
        node_name: "de-1".into(),
    })
    .await;
    let enrolled = joining.await.unwrap().unwrap();
    AgentConfig::load(&enrolled.config_path).unwrap()
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

    /// Stops the agent and waits for it (it writes its cache on the way out).
    async fn stop(self) {
        self.stop.cancel();
        self.task.await.unwrap().unwrap();
    }
}

/// The Hello of a new connection.
async fn hello(conn: &mut Conn) -> Option<feed_wire::Resume> {
    match conn.recv().await {
        ToControl::Hello {
            protocol_version,
            resume,
            ..
        } => {
            assert_eq!(protocol_version, feed_wire::PROTOCOL_VERSION);
            resume
        }
        other => panic!("expected Hello, got {other:?}"),
    }
}
