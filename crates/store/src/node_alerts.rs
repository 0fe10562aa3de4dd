//! What the admins were last told about each remote node (offline, behind), so an incident is
//! reported once however often the leader looks and whichever process leads. Each change is
//! conditional on the state it was computed from: of two processes racing (a leader change
//! midway), one wins and only its message goes out.

use domain::NodeId;
use sqlx::any::AnyRow;
use sqlx::Row as _;
use time::OffsetDateTime;

use crate::{Store, StoreError};

/// The alert bookkeeping of one node. The default is "nothing to report, nothing reported".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NodeAlertState {
    /// The admins were told the node is offline and not yet that it is back.
    pub offline_alerted: bool,
    /// The node was seen behind: since when, of which revision, and whether the admins were
    /// told.
    pub behind: Option<Behind>,
}

/// A node seen without a revision the control plane had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Behind {
    /// The access revision the node was first seen behind of.
    pub revision: i64,
    pub since: OffsetDateTime,
    /// The admins were told, and not yet that it caught up.
    pub alerted: bool,
}

/// A node's alert state as read, with the version a change must find to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredAlertState {
    pub state: NodeAlertState,
    /// `None` when nothing was ever stored for the node.
    pub version: Option<i64>,
}

fn state_from_row(row: &AnyRow) -> Result<(NodeId, StoredAlertState), StoreError> {
    let offline: i64 = row.try_get("offline_alerted")?;
    let revision: Option<i64> = row.try_get("behind_revision")?;
    let since: Option<i64> = row.try_get("behind_since")?;
    let alerted: i64 = row.try_get("behind_alerted")?;
    let behind = match (revision, since) {
        (Some(revision), Some(since)) => Some(Behind {
            revision,
            since: OffsetDateTime::from_unix_timestamp(since)
                .map_err(|_| StoreError::Corrupt("node_alerts.behind_since"))?,
            alerted: alerted != 0,
        }),
        (None, None) => None,
        _ => return Err(StoreError::Corrupt("node_alerts.behind_since")),
    };
    Ok((
        NodeId(row.try_get("node_id")?),
        StoredAlertState {
            state: NodeAlertState {
                offline_alerted: offline != 0,
                behind,
            },
            version: Some(row.try_get("version")?),
        },
    ))
}

impl Store {
    /// Every node's stored alert state, by node (nodes never looked at have none).
    pub async fn node_alert_states(&self) -> Result<Vec<(NodeId, StoredAlertState)>, StoreError> {
        let rows = sqlx::query(
            "SELECT node_id, offline_alerted, behind_revision, behind_since, behind_alerted, \
             version FROM node_alerts ORDER BY node_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(state_from_row).collect()
    }

    /// Replaces `node`'s alert state with `next` if it is still the one read as `seen`;
    /// `false` if another process changed it first (or the node is gone), and then the caller
    /// reports nothing.
    pub async fn replace_node_alert_state(
        &self,
        node: NodeId,
        seen: &StoredAlertState,
        next: &NodeAlertState,
    ) -> Result<bool, StoreError> {
        let offline = i64::from(next.offline_alerted);
        let revision = next.behind.map(|b| b.revision);
        let since = next.behind.map(|b| b.since.unix_timestamp());
        let alerted = i64::from(next.behind.is_some_and(|b| b.alerted));
        let done = match seen.version {
            // Only a row for an existing node can be made; the first writer wins.
            None => {
                sqlx::query(
                    "INSERT INTO node_alerts (node_id, offline_alerted, behind_revision, \
                     behind_since, behind_alerted, version) \
                     SELECT id, $2, $3, $4, $5, 1 FROM nodes WHERE id = $1 \
                     ON CONFLICT (node_id) DO NOTHING",
                )
                .bind(node.0)
                .bind(offline)
                .bind(revision)
                .bind(since)
                .bind(alerted)
                .execute(&self.pool)
                .await?
            }
            Some(version) => {
                sqlx::query(
                    "UPDATE node_alerts SET offline_alerted = $2, behind_revision = $3, \
                     behind_since = $4, behind_alerted = $5, version = version + 1 \
                     WHERE node_id = $1 AND version = $6",
                )
                .bind(node.0)
                .bind(offline)
                .bind(revision)
                .bind(since)
                .bind(alerted)
                .bind(version)
                .execute(&self.pool)
                .await?
            }
        };
        Ok(done.rows_affected() == 1)
    }
}
