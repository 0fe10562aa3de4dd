//! The admins' alert bookkeeping per remote node, on both backends: a change applies only to
//! the state it was computed from, so of two processes racing, one wins.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use domain::NodeId;
use store::testing::TestDb;
use store::{Behind, NodeAlertState, StoredAlertState};
use time::OffsetDateTime;

const NOTHING_STORED: StoredAlertState = StoredAlertState {
    state: NodeAlertState {
        offline_alerted: false,
        behind: None,
    },
    version: None,
};

async fn stored(db: &TestDb, node: NodeId) -> Option<StoredAlertState> {
    db.store
        .node_alert_states()
        .await
        .unwrap()
        .into_iter()
        .find(|(id, _)| *id == node)
        .map(|(_, s)| s)
}

async fn a_change_applies_only_to_the_state_it_was_computed_from(db: &TestDb) {
    let node = db.remote_node("de-1", "DE").await.spec.id;
    assert_eq!(stored(db, node).await, None);
    let offline = NodeAlertState {
        offline_alerted: true,
        behind: None,
    };
    assert!(db
        .store
        .replace_node_alert_state(node, &NOTHING_STORED, &offline)
        .await
        .unwrap());
    // A second process that read "nothing stored" too loses.
    assert!(!db
        .store
        .replace_node_alert_state(node, &NOTHING_STORED, &offline)
        .await
        .unwrap());
    let first = stored(db, node).await.unwrap();
    assert_eq!(first.state, offline);

    let since = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
    let behind = NodeAlertState {
        offline_alerted: false,
        behind: Some(Behind {
            revision: 42,
            since,
            alerted: true,
        }),
    };
    assert!(db
        .store
        .replace_node_alert_state(node, &first, &behind)
        .await
        .unwrap());
    assert!(
        !db.store
            .replace_node_alert_state(node, &first, &NodeAlertState::default())
            .await
            .unwrap(),
        "a state read before the last change is stale"
    );
    assert_eq!(stored(db, node).await.unwrap().state, behind);
}

async fn a_removed_node_takes_its_alerts_along(db: &TestDb) {
    let node = db.remote_node("de-1", "DE").await.spec.id;
    let offline = NodeAlertState {
        offline_alerted: true,
        behind: None,
    };
    db.store
        .replace_node_alert_state(node, &NOTHING_STORED, &offline)
        .await
        .unwrap();
    db.store.delete_node("de-1").await.unwrap();
    assert_eq!(stored(db, node).await, None);
    assert!(
        !db.store
            .replace_node_alert_state(node, &NOTHING_STORED, &offline)
            .await
            .unwrap(),
        "no row is made for a node that is gone"
    );
}

store::backend_tests!(
    a_change_applies_only_to_the_state_it_was_computed_from,
    a_removed_node_takes_its_alerts_along,
);
