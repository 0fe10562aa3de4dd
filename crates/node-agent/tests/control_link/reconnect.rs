//! Losing the real control plane and getting it back: resume from the node's revision without a snapshot, a restart served from the cache while the control plane is down, and a removed node cut off mid-feed (or refused at once) that keeps its table and asks again.

use std::time::Duration;

use crate::logs::{Logs, CUT_OFF, REFUSED, RESUMED, SNAPSHOT};
use crate::plane::{expected_settings, Plane};
use crate::{enrolled, Agent, NODE};

#[tokio::test]
async fn after_a_reconnect_the_node_resumes_from_its_revision_and_catches_up() {
    let (logs, _capture) = Logs::capture();
    let mut plane = Plane::start().await;
    let members = plane.add_users(10).await;
    let dir = tempfile::tempdir().unwrap();
    let config = enrolled(&plane, dir.path()).await;
    let agent = Agent::start(&config);
    let before = plane.revision().await;
    agent.wait_for_revision(before).await;
    assert_eq!(agent.table.len(), 10);

    // The control plane goes away; meanwhile two people are blocked.
    plane.stop().await;
    plane.block(&members[1]).await;
    plane.block(&members[2]).await;
    assert_eq!(
        agent.table.len(),
        10,
        "the table is kept while disconnected"
    );

    // It comes back on the same address: the node dials again by itself and says where it is.
    plane.restart().await;
    let now = plane.revision().await;
    assert!(now > before);
    agent.wait_for_revision(now).await;
    assert_eq!(agent.table.len(), 8);
    assert!(!agent.allows(&members[1].key) && !agent.allows(&members[2].key));
    assert!(agent.allows(&members[0].key));
    logs.wait_for(RESUMED, 1).await;
    assert_eq!(
        (logs.count(SNAPSHOT), logs.count(RESUMED)),
        (1, 1),
        "one snapshot at first, then only the changes since the node's revision"
    );
    agent.stop().await;
}

#[tokio::test]
async fn a_node_restarted_while_the_control_plane_is_down_serves_from_its_cache() {
    let (logs, _capture) = Logs::capture();
    let mut plane = Plane::start().await;
    let members = plane.add_users(50).await;
    let dir = tempfile::tempdir().unwrap();
    let config = enrolled(&plane, dir.path()).await;
    let agent = Agent::start(&config);
    agent.wait_for_revision(plane.revision().await).await;
    plane.block(&members[7]).await;
    let revision = plane.revision().await;
    agent.wait_for_revision(revision).await;
    agent.stop().await;
    plane.stop().await;

    // The control plane is down; the node starts again with an empty table.
    let agent = Agent::start(&config);
    agent.wait_for_revision(revision).await;
    assert_eq!(agent.table.len(), 49);
    assert!(agent.allows(&members[0].key) && !agent.allows(&members[7].key));
    assert_eq!(*agent.settings.borrow(), Some(expected_settings()));
    #[cfg(unix)]
    for file in [node_agent::ACCESS_CACHE, node_agent::SETTINGS_CACHE] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }

    // The control plane is back: the node resumes from the cached revision instead of asking
    // for everything again, and the control plane records that revision as the node's.
    plane.restart().await;
    logs.wait_for(RESUMED, 1).await;
    assert_eq!(
        logs.count(SNAPSHOT),
        1,
        "only the first connection took a snapshot"
    );
    plane
        .wait_for_status(NODE, |s| s.applied_revision == revision)
        .await;
    assert_eq!(agent.table.len(), 49);
    agent.stop().await;
}

#[tokio::test]
async fn a_node_removed_while_connected_is_cut_off_within_a_second_and_keeps_its_table() {
    let (logs, _capture) = Logs::capture();
    let plane = Plane::start().await;
    let members = plane.add_users(4).await;
    let dir = tempfile::tempdir().unwrap();
    let config = enrolled(&plane, dir.path()).await;
    let agent = Agent::start(&config);
    let revision = plane.revision().await;
    agent.wait_for_revision(revision).await;

    plane.app.remove_node(NODE).await.unwrap();
    let removed_at = tokio::time::Instant::now();
    logs.wait_for(REFUSED, 1).await;
    let took = removed_at.elapsed();
    // The control plane looks again every second; a little slack for a busy machine.
    assert!(took < Duration::from_millis(1500), "cut off after {took:?}");
    assert_eq!(logs.count(CUT_OFF), 1);
    assert_eq!((agent.table.revision(), agent.table.len()), (revision, 4));
    assert!(members.iter().all(|m| agent.allows(&m.key)));

    // It keeps asking (and is refused again), still serving what it had.
    logs.wait_for(REFUSED, 2).await;
    assert_eq!((agent.table.revision(), agent.table.len()), (revision, 4));
    agent.stop().await;
}

#[tokio::test]
async fn a_removed_node_is_refused_and_keeps_asking_with_nothing_to_serve() {
    let (logs, _capture) = Logs::capture();
    let plane = Plane::start().await;
    plane.add_users(2).await;
    let dir = tempfile::tempdir().unwrap();
    let config = enrolled(&plane, dir.path()).await;
    plane.app.remove_node(NODE).await.unwrap();
    let agent = Agent::start(&config);
    logs.wait_for(REFUSED, 2).await;
    assert_eq!((agent.table.revision(), agent.table.len()), (0, 0));
    assert_eq!(*agent.settings.borrow(), None);
    assert!(!agent.task.is_finished());
    agent.stop().await;
}
