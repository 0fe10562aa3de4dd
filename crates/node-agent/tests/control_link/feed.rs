//! The feed: settings and a chunked snapshot into the table only when complete, changes, pings and stats, resume after a reconnect, start from the cache with the control plane down, and no feed from an unpinned control plane.

use std::sync::Arc;
use std::time::Duration;

use feed_wire::{Resume, ToControl, ToNode, WireEntry, MAX_CHUNK_ENTRIES};
use node::access::unix_now;
use node::MetricsSnapshot;
use vless::UserKey;

use crate::{enrolled, hello, settings, timing, Agent};
use testkit::feed_control::{Conn, ControlCredential, FakeControl, PATIENCE};

const EPOCH: [u8; 16] = [0xe0; 16];
const FAR: i64 = i64::MAX;

fn key(n: u32) -> [u8; 16] {
    let mut key = [0x5c; 16];
    key[..4].copy_from_slice(&n.to_be_bytes());
    key[12..].copy_from_slice(&n.wrapping_mul(2_654_435_761).to_le_bytes());
    key
}

fn allowed(agent: &Agent, n: u32) -> bool {
    agent.table.is_allowed(&UserKey(key(n)), unix_now())
}

/// Sends `users` users (ids 0..users) as a snapshot at `revision`, in full chunks.
async fn send_snapshot(conn: &mut Conn, revision: u64, users: u32) {
    conn.send(&ToNode::SnapshotBegin {
        epoch: EPOCH,
        revision,
        total: u64::from(users),
    })
    .await;
    let all: Vec<WireEntry> = (0..users)
        .map(|n| WireEntry {
            key: key(n),
            expires_at: FAR,
        })
        .collect();
    for chunk in all.chunks(MAX_CHUNK_ENTRIES) {
        conn.send(&ToNode::SnapshotChunk {
            entries: chunk.to_vec(),
        })
        .await;
    }
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_snapshot_in_chunks_reaches_the_table_only_when_complete_then_changes_apply() {
    let mut fake = FakeControl::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = enrolled(&mut fake, dir.path()).await;
    let mut agent = Agent::start(&config);
    let mut conn = fake.accept().await;
    assert_eq!(
        hello(&mut conn).await,
        None,
        "a new node has nothing to resume"
    );
    conn.send(&ToNode::Settings(settings(8443))).await;
    // Two full chunks and a partial one.
    let users = 2 * MAX_CHUNK_ENTRIES as u32 + 100;
    send_snapshot(&mut conn, 7, users).await;
    conn.sync(1).await;
    assert!(
        agent.table.is_empty(),
        "an unfinished snapshot is not served"
    );
    conn.send(&ToNode::SnapshotEnd).await;
    assert_eq!(conn.recv().await, ToControl::Applied { revision: 7 });
    assert_eq!(agent.table.len(), users as usize);
    assert!(allowed(&agent, 0) && allowed(&agent, users - 1) && !allowed(&agent, users));
    agent.settings.changed().await.unwrap();
    assert_eq!(*agent.settings.borrow(), Some(settings(8443)));

    conn.send(&ToNode::Changes {
        revision: 9,
        upserts: vec![WireEntry {
            key: key(users),
            expires_at: FAR,
        }],
        revoked: vec![key(0)],
    })
    .await;
    assert_eq!(conn.recv().await, ToControl::Applied { revision: 9 });
    assert!(!allowed(&agent, 0) && allowed(&agent, users));
    assert_eq!(agent.table.revision(), 9);
    agent.stop().await;
}

#[tokio::test]
async fn after_a_reconnect_the_node_resumes_from_its_revision_and_catches_up() {
    let mut fake = FakeControl::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = enrolled(&mut fake, dir.path()).await;
    let agent = Agent::start(&config);
    let mut conn = fake.accept().await;
    hello(&mut conn).await;
    send_snapshot(&mut conn, 20, 10).await;
    conn.send(&ToNode::SnapshotEnd).await;
    assert_eq!(conn.recv().await, ToControl::Applied { revision: 20 });
    drop(conn);

    // The node dials again by itself and says where it is.
    let mut conn = fake.accept().await;
    assert_eq!(
        hello(&mut conn).await,
        Some(Resume {
            epoch: EPOCH,
            revision: 20
        })
    );
    assert_eq!(
        agent.table.len(),
        10,
        "the table is kept while disconnected"
    );
    conn.send(&ToNode::Changes {
        revision: 23,
        upserts: vec![],
        revoked: vec![key(1), key(2)],
    })
    .await;
    assert_eq!(conn.recv().await, ToControl::Applied { revision: 23 });
    assert_eq!(agent.table.len(), 8);
    agent.stop().await;
}

#[tokio::test]
async fn a_node_restarted_while_the_control_plane_is_down_serves_from_its_cache() {
    let mut fake = FakeControl::start().await;
    let credential = fake.credential.clone();
    let dir = tempfile::tempdir().unwrap();
    let mut config = enrolled(&mut fake, dir.path()).await;
    let agent = Agent::start(&config);
    let mut conn = fake.accept().await;
    hello(&mut conn).await;
    conn.send(&ToNode::Settings(settings(9443))).await;
    send_snapshot(&mut conn, 31, 50).await;
    conn.send(&ToNode::SnapshotEnd).await;
    conn.recv().await;
    conn.send(&ToNode::Changes {
        revision: 32,
        upserts: vec![],
        revoked: vec![key(7)],
    })
    .await;
    conn.recv().await;
    agent.stop().await;
    drop(conn);
    drop(fake);

    // The control plane is gone; the node starts again with an empty table.
    let agent = Agent::start(&config);
    wait_for("the cached table", || agent.table.revision() == 32).await;
    assert_eq!(agent.table.len(), 49);
    assert!(allowed(&agent, 0) && !allowed(&agent, 7));
    assert_eq!(*agent.settings.borrow(), Some(settings(9443)));
    agent.stop().await;
    #[cfg(unix)]
    for file in [node_agent::ACCESS_CACHE, node_agent::SETTINGS_CACHE] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }

    // The control plane is back (same certificate, another port): the node resumes from the
    // cached revision instead of asking for everything again.
    let mut fake = FakeControl::start_with(credential).await;
    config.control_address = fake.address.clone();
    let agent = Agent::start(&config);
    let mut conn = fake.accept().await;
    assert_eq!(
        hello(&mut conn).await,
        Some(Resume {
            epoch: EPOCH,
            revision: 32
        })
    );
    agent.stop().await;
}

#[tokio::test]
async fn pings_are_answered_and_aggregate_stats_reported() {
    let mut fake = FakeControl::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = enrolled(&mut fake, dir.path()).await;
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
    let mut conn = fake.accept().await;
    hello(&mut conn).await;
    conn.send(&ToNode::Ping { nonce: 99 }).await;
    let mut pong = false;
    let mut reports = 0;
    while !pong || reports < 2 {
        match conn.next().await.unwrap() {
            ToControl::Pong { nonce } => {
                assert_eq!(nonce, 99);
                pong = true;
            }
            ToControl::Stats {
                connections,
                bytes_up,
                bytes_down,
            } => {
                assert_eq!((connections, bytes_up, bytes_down), (3, 1000, 2000));
                reports += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    agent.stop().await;
}

#[tokio::test]
async fn a_control_plane_with_another_certificate_never_feeds_the_node() {
    let mut fake = FakeControl::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = enrolled(&mut fake, dir.path()).await;
    let mut impostor = FakeControl::start_with(ControlCredential::generate()).await;
    config.control_address = impostor.address.clone();
    let agent = Agent::start(&config);
    // The node keeps trying (with backoff), and every handshake fails on its side.
    assert!(!impostor.connected_within(Duration::from_millis(500)).await);
    assert_eq!(agent.table.revision(), 0);
    agent.stop().await;
}

#[tokio::test]
async fn a_snapshot_that_breaks_its_announcement_drops_the_link_and_keeps_the_old_table() {
    let mut fake = FakeControl::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = enrolled(&mut fake, dir.path()).await;
    let agent = Agent::start(&config);
    let mut conn = fake.accept().await;
    hello(&mut conn).await;
    send_snapshot(&mut conn, 5, 3).await;
    conn.send(&ToNode::SnapshotEnd).await;
    assert_eq!(conn.recv().await, ToControl::Applied { revision: 5 });
    // Announces 2 entries, ends after 1.
    conn.send(&ToNode::SnapshotBegin {
        epoch: EPOCH,
        revision: 6,
        total: 2,
    })
    .await;
    conn.send(&ToNode::SnapshotChunk {
        entries: vec![WireEntry {
            key: key(100),
            expires_at: FAR,
        }],
    })
    .await;
    conn.send(&ToNode::SnapshotEnd).await;
    assert_eq!(conn.next().await, None, "the node hangs up");
    assert_eq!((agent.table.revision(), agent.table.len()), (5, 3));
    // And comes back asking to resume from what it holds.
    let mut conn = fake.accept().await;
    assert_eq!(
        hello(&mut conn).await,
        Some(Resume {
            epoch: EPOCH,
            revision: 5
        })
    );
    agent.stop().await;
}

#[tokio::test]
async fn a_refused_node_keeps_its_table_and_asks_again_later() {
    let mut fake = FakeControl::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = enrolled(&mut fake, dir.path()).await;
    let agent = Agent::start(&config);
    let mut conn = fake.accept().await;
    hello(&mut conn).await;
    send_snapshot(&mut conn, 3, 4).await;
    conn.send(&ToNode::SnapshotEnd).await;
    assert_eq!(conn.recv().await, ToControl::Applied { revision: 3 });
    conn.send(&ToNode::Refused {
        reason: feed_wire::Refusal::Disabled,
    })
    .await;
    assert_eq!(conn.next().await, None, "the node hangs up");
    let mut conn = fake.accept().await;
    assert_eq!(
        hello(&mut conn).await,
        Some(Resume {
            epoch: EPOCH,
            revision: 3
        })
    );
    assert_eq!(agent.table.len(), 4);
    agent.stop().await;
}
