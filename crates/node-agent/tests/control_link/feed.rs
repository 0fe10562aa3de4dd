//! The feed from the real control plane: settings and a snapshot of several chunks into the table (only whole), a block and a new person within a second, the node's reports recorded by the control plane, and no feed from a control plane with another certificate.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use feed_wire::MAX_CHUNK_ENTRIES;
use node::MetricsSnapshot;

use crate::logs::{Logs, SNAPSHOT};
use crate::plane::{expected_settings, Plane};
use crate::{enrolled, timing, wait_for, Agent, NODE};

/// Every size the table had while `until` was unset, sampled as often as the runtime allows.
fn sample_sizes(agent: &Agent, until: &Arc<Mutex<bool>>) -> Arc<Mutex<BTreeSet<usize>>> {
    let seen = Arc::new(Mutex::new(BTreeSet::new()));
    let (table, record, until) = (agent.table.clone(), seen.clone(), until.clone());
    tokio::spawn(async move {
        while !*until.lock().unwrap() {
            record.lock().unwrap().insert(table.len());
            tokio::task::yield_now().await;
        }
    });
    seen
}

#[tokio::test]
async fn a_snapshot_of_several_chunks_reaches_the_table_whole_then_a_block_applies_within_a_second()
{
    let (logs, _capture) = Logs::capture();
    let plane = Plane::start().await;
    // Two full chunks and a partial one.
    let count = 2 * MAX_CHUNK_ENTRIES + 100;
    let members = plane.add_users(count).await;
    let dir = tempfile::tempdir().unwrap();
    let config = enrolled(&plane, dir.path()).await;

    let mut agent = Agent::start(&config);
    let done = Arc::new(Mutex::new(false));
    let sizes = sample_sizes(&agent, &done);
    agent.wait_for_revision(plane.revision().await).await;
    *done.lock().unwrap() = true;
    assert_eq!(agent.table.len(), count);
    assert!(members.iter().all(|m| agent.allows(&m.key)));
    assert_eq!(
        *sizes.lock().unwrap(),
        BTreeSet::from([0, count]),
        "the table is empty, then whole: never part of a snapshot"
    );
    logs.wait_for(SNAPSHOT, 1).await;
    assert_eq!(logs.count(SNAPSHOT), 1);
    agent.settings.changed().await.unwrap();
    assert_eq!(*agent.settings.borrow(), Some(expected_settings()));

    // The operator blocks someone: the node stops letting them in within a second.
    let blocked = members[count / 2];
    plane.block(&blocked).await;
    let blocked_at = tokio::time::Instant::now();
    wait_for("the block reaches the node", || !agent.allows(&blocked.key)).await;
    let took = blocked_at.elapsed();
    assert!(took < Duration::from_secs(1), "a block took {took:?}");
    assert_eq!(agent.table.len(), count - 1);

    // Someone new is let in, and the table follows the store's revision.
    let newcomer = plane.add_users(1).await[0];
    agent.wait_for_revision(plane.revision().await).await;
    assert!(agent.allows(&newcomer.key));
    assert_eq!(agent.table.len(), count);
    assert_eq!(logs.count(SNAPSHOT), 1, "changes, never another snapshot");
    agent.stop().await;
}

#[tokio::test]
async fn the_control_plane_records_the_nodes_reports() {
    let plane = Plane::start().await;
    let members = plane.add_users(3).await;
    let dir = tempfile::tempdir().unwrap();
    let config = enrolled(&plane, dir.path()).await;
    let stats = MetricsSnapshot {
        connections_active: 3,
        bytes_up: 1000,
        bytes_down: 2000,
        ..MetricsSnapshot::default()
    };
    let fast = crate::Timing {
        stats_interval: Duration::from_millis(50),
        ..timing()
    };
    let agent = Agent::start_with(&config, fast, Arc::new(move || Some(stats)));
    let revision = plane.revision().await;
    agent.wait_for_revision(revision).await;
    assert!(members.iter().all(|m| agent.allows(&m.key)));

    // A report after the snapshot carries the counters and the revision the node applied.
    let status = plane
        .wait_for_status(NODE, |s| {
            s.applied_revision == revision && s.connections == 3
        })
        .await;
    assert_eq!((status.bytes_up, status.bytes_down), (1000, 2000));
    assert_eq!(status.software_version, env!("CARGO_PKG_VERSION"));
    let overview = plane.app.node_overview().await.unwrap();
    let node = overview
        .iter()
        .find(|n| n.record.spec.name == NODE)
        .unwrap();
    assert_eq!(node.online, Some(true));
    agent.stop().await;
}

#[tokio::test]
async fn a_control_plane_with_another_certificate_never_feeds_the_node() {
    let plane = Plane::start().await;
    plane.add_users(2).await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = enrolled(&plane, dir.path()).await;
    // Same database, same node and users: it would feed the node, but presents another
    // certificate than the one the node pinned.
    let other = Plane::start().await.identity;
    let impostor = plane.serve_as(other).await;
    config.control_address = impostor.address.clone();
    let agent = Agent::start(&config);
    // The node keeps trying (with backoff), and every handshake fails on its side.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(agent.table.revision(), 0);
    assert_eq!(*agent.settings.borrow(), None);
    assert!(
        plane.status(NODE).await.is_none(),
        "the node never said Hello"
    );
    assert!(!agent.task.is_finished(), "the node keeps trying");
    agent.stop().await;
}
