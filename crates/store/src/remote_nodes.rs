//! Remote nodes: registering one with its join token, enrolment (a token used once, within its
//! lifetime, binds the node's credential), switching nodes on and off, and what they report.

use domain::{
    CertPin, ChainKey, JoinTokenHash, Location, NodeId, NodeKind, NodePrivateSettings, NodeRecord,
    NodeSecurity, NodeSpec, NodeStatus,
};
use sqlx::any::AnyRow;
use sqlx::Row as _;
use time::OffsetDateTime;

use crate::nodes::{node_from_row, NODE_COLUMNS};
use crate::{Store, StoreError};

const RECORD_COLUMNS: &str = "kind, enabled, position, via_node_id, credential_sha256";

/// A node to register, with what it is told and what clients are told.
#[derive(Debug, Clone)]
pub struct NewRemoteNode<'a> {
    pub name: &'a str,
    pub location: &'a Location,
    pub public_host: &'a str,
    pub port: u16,
    pub security: &'a NodeSecurity,
    pub private: &'a NodePrivateSettings,
    pub via: Option<NodeId>,
    /// The entry's key towards `via` (set exactly when `via` is).
    pub chain_key: Option<ChainKey>,
}

/// What became of a join token presented by a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enrolment {
    /// The token was valid: the node is now known by its credential.
    Enrolled(Box<NodeRecord>),
    Unknown,
    AlreadyUsed,
    Expired,
}

fn record_from_row(row: &AnyRow) -> Result<NodeRecord, StoreError> {
    let kind: String = row.try_get("kind")?;
    let enabled: i64 = row.try_get("enabled")?;
    let via: Option<i64> = row.try_get("via_node_id")?;
    let credential: Option<String> = row.try_get("credential_sha256")?;
    let credential = credential
        .map(|pin| {
            pin.parse::<CertPin>()
                .map_err(|_| StoreError::Corrupt("nodes.credential_sha256"))
        })
        .transpose()?;
    Ok(NodeRecord {
        spec: node_from_row(row)?,
        kind: NodeKind::parse(&kind).ok_or(StoreError::Corrupt("nodes.kind"))?,
        enabled: enabled != 0,
        position: row.try_get("position")?,
        via: via.map(NodeId),
        credential,
    })
}

fn record_with_private(row: &AnyRow) -> Result<(NodeRecord, NodePrivateSettings), StoreError> {
    let private: Option<String> = row.try_get("private_settings")?;
    let private = private
        .and_then(|json| serde_json::from_str(&json).ok())
        .ok_or(StoreError::Corrupt("nodes.private_settings"))?;
    Ok((record_from_row(row)?, private))
}

fn unix(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

fn to_u64(value: i64, column: &'static str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(column))
}

fn to_i64(value: u64) -> i64 {
    // Counters this large take centuries to reach; saturate rather than wrap.
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl Store {
    /// Registers a remote node with the join token that will enrol it. `None` if a node of
    /// that name exists already.
    pub async fn add_remote_node(
        &self,
        node: &NewRemoteNode<'_>,
        token: &JoinTokenHash,
        token_expires_at: OffsetDateTime,
    ) -> Result<Option<NodeRecord>, StoreError> {
        let security = serde_json::to_string(node.security)
            .map_err(|_| StoreError::Corrupt("nodes.security"))?;
        let private = serde_json::to_string(node.private)
            .map_err(|_| StoreError::Corrupt("nodes.private_settings"))?;
        let mut tx = self.begin_write().await?;
        let sql = format!(
            "INSERT INTO nodes (name, location, public_host, port, security, kind, enabled, \
             position, via_node_id, private_settings, chain_key) \
             SELECT $1, $2, $3, $4, $5, 'remote', 1, COALESCE(MAX(position), 0) + 1, $6, $7, $8 \
             FROM nodes WHERE TRUE \
             ON CONFLICT (name) DO NOTHING RETURNING {NODE_COLUMNS}, {RECORD_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(node.name)
            .bind(node.location.0.as_str())
            .bind(node.public_host)
            .bind(i64::from(node.port))
            .bind(security)
            .bind(node.via.map(|NodeId(id)| id))
            .bind(private)
            .bind(node.chain_key.map(|key| key.to_hex()))
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let record = record_from_row(&row)?;
        insert_join_token(&mut tx, record.spec.id, token, token_expires_at).await?;
        tx.commit().await?;
        Ok(Some(record))
    }

    /// A fresh join token for `node`, e.g. after the first one expired or to move the node to
    /// a new server: enrolling with it replaces the node's credential.
    pub async fn add_join_token(
        &self,
        node: NodeId,
        token: &JoinTokenHash,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        insert_join_token(&mut tx, node, token, expires_at).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Uses the join token once: within its lifetime and never before, it binds `credential`
    /// to its node.
    pub async fn enrol_node(
        &self,
        token: &JoinTokenHash,
        credential: &CertPin,
        now: OffsetDateTime,
    ) -> Result<Enrolment, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT node_id, expires_at, used_at FROM node_join_tokens WHERE token_sha256 = $1",
        )
        .bind(token.0.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(Enrolment::Unknown);
        };
        let node_id: i64 = row.try_get("node_id")?;
        let expires_at: i64 = row.try_get("expires_at")?;
        let used_at: Option<i64> = row.try_get("used_at")?;
        if used_at.is_some() {
            return Ok(Enrolment::AlreadyUsed);
        }
        if expires_at <= unix(now) {
            return Ok(Enrolment::Expired);
        }
        // The conditional update is what makes the token single-use under concurrent joins.
        let used = sqlx::query(
            "UPDATE node_join_tokens SET used_at = $1 WHERE token_sha256 = $2 AND used_at IS NULL",
        )
        .bind(unix(now))
        .bind(token.0.as_str())
        .execute(&mut *tx)
        .await?;
        if used.rows_affected() != 1 {
            return Ok(Enrolment::AlreadyUsed);
        }
        let sql = format!(
            "UPDATE nodes SET credential_sha256 = $1 WHERE id = $2 \
             RETURNING {NODE_COLUMNS}, {RECORD_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(credential.to_string())
            .bind(node_id)
            .fetch_one(&mut *tx)
            .await?;
        let record = record_from_row(&row)?;
        tx.commit().await?;
        Ok(Enrolment::Enrolled(Box::new(record)))
    }

    /// Every node, enabled or not, in the operator's order.
    pub async fn node_records(&self) -> Result<Vec<NodeRecord>, StoreError> {
        let sql =
            format!("SELECT {NODE_COLUMNS}, {RECORD_COLUMNS} FROM nodes ORDER BY position, id");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(record_from_row).collect()
    }

    pub async fn node_record(&self, name: &str) -> Result<Option<NodeRecord>, StoreError> {
        let sql = format!("SELECT {NODE_COLUMNS}, {RECORD_COLUMNS} FROM nodes WHERE name = $1");
        let row = sqlx::query(&sql)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(record_from_row).transpose()
    }

    /// The remote node that enrolled with `credential`, with what it must be told.
    pub async fn node_by_credential(
        &self,
        credential: &CertPin,
    ) -> Result<Option<(NodeRecord, NodePrivateSettings)>, StoreError> {
        let sql = format!(
            "SELECT {NODE_COLUMNS}, {RECORD_COLUMNS}, private_settings FROM nodes \
             WHERE credential_sha256 = $1 AND kind = 'remote'"
        );
        let row = sqlx::query(&sql)
            .bind(credential.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(record_with_private).transpose()
    }

    /// A remote node with its private settings, by name.
    pub async fn remote_node_settings(
        &self,
        name: &str,
    ) -> Result<Option<(NodeRecord, NodePrivateSettings)>, StoreError> {
        let sql = format!(
            "SELECT {NODE_COLUMNS}, {RECORD_COLUMNS}, private_settings FROM nodes \
             WHERE name = $1 AND kind = 'remote'"
        );
        let row = sqlx::query(&sql)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(record_with_private).transpose()
    }

    /// Replaces what clients are told about a remote node and what it is told; `false` if
    /// there is no remote node of that name. The node receives its new settings over its feed.
    pub async fn update_remote_node(
        &self,
        name: &str,
        spec: &NodeSpec,
        private: &NodePrivateSettings,
    ) -> Result<bool, StoreError> {
        let security = serde_json::to_string(&spec.security)
            .map_err(|_| StoreError::Corrupt("nodes.security"))?;
        let private = serde_json::to_string(private)
            .map_err(|_| StoreError::Corrupt("nodes.private_settings"))?;
        let done = sqlx::query(
            "UPDATE nodes SET location = $1, public_host = $2, port = $3, security = $4, \
             private_settings = $5 WHERE name = $6 AND kind = 'remote'",
        )
        .bind(spec.location.0.as_str())
        .bind(spec.public_host.as_str())
        .bind(i64::from(spec.port))
        .bind(security)
        .bind(private)
        .bind(name)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Switches a node in or out of links and subscriptions; `false` if there is no such node.
    pub async fn set_node_enabled(&self, name: &str, enabled: bool) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE nodes SET enabled = $1 WHERE name = $2")
            .bind(i64::from(enabled))
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Moves a node in the operator's order; `false` if there is no such node.
    pub async fn set_node_position(&self, name: &str, position: i64) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE nodes SET position = $1 WHERE name = $2")
            .bind(position)
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The names of the nodes that send their users on through `exit`.
    pub async fn entries_via(&self, exit: NodeId) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("SELECT name FROM nodes WHERE via_node_id = $1 ORDER BY id")
            .bind(exit.0)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok(row.try_get::<String, _>("name")?))
            .collect()
    }

    /// For the entry node `entry`: its exit as clients are told about it, and the entry's key
    /// towards it. `None` when `entry` goes through no exit.
    pub async fn chain_exit(
        &self,
        entry: NodeId,
    ) -> Result<Option<(NodeSpec, ChainKey)>, StoreError> {
        let row = sqlx::query(
            "SELECT x.id, x.name, x.location, x.public_host, x.port, x.security, \
             n.chain_key FROM nodes n JOIN nodes x ON x.id = n.via_node_id WHERE n.id = $1",
        )
        .bind(entry.0)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let key: Option<String> = row.try_get("chain_key")?;
        let key = key
            .as_deref()
            .and_then(ChainKey::from_hex)
            .ok_or(StoreError::Corrupt("nodes.chain_key"))?;
        Ok(Some((node_from_row(&row)?, key)))
    }

    /// Makes `entry` go through `via` with `key`, or through nothing (`None`, `None`).
    pub async fn set_node_via(
        &self,
        entry: NodeId,
        via: Option<NodeId>,
        key: Option<ChainKey>,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE nodes SET via_node_id = $1, chain_key = $2 WHERE id = $3")
            .bind(via.map(|NodeId(id)| id))
            .bind(key.map(|key| key.to_hex()))
            .bind(entry.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The keys of the enabled entry nodes that go through `exit`, which it must accept.
    pub async fn chain_keys_via(&self, exit: NodeId) -> Result<Vec<ChainKey>, StoreError> {
        let rows = sqlx::query(
            "SELECT chain_key FROM nodes WHERE via_node_id = $1 AND enabled = 1 \
             AND chain_key IS NOT NULL ORDER BY id",
        )
        .bind(exit.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let key: String = row.try_get("chain_key")?;
                ChainKey::from_hex(&key).ok_or(StoreError::Corrupt("nodes.chain_key"))
            })
            .collect()
    }

    /// Records what a node reported, replacing its previous report.
    pub async fn record_node_status(
        &self,
        node: NodeId,
        status: &NodeStatus,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO node_status (node_id, software_version, applied_revision, connections, \
             bytes_up, bytes_down, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (node_id) DO UPDATE SET software_version = excluded.software_version, \
             applied_revision = excluded.applied_revision, connections = excluded.connections, \
             bytes_up = excluded.bytes_up, bytes_down = excluded.bytes_down, \
             last_seen_at = excluded.last_seen_at",
        )
        .bind(node.0)
        .bind(status.software_version.as_str())
        .bind(to_i64(status.applied_revision))
        .bind(to_i64(status.connections))
        .bind(to_i64(status.bytes_up))
        .bind(to_i64(status.bytes_down))
        .bind(unix(status.last_seen_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// What each node last reported, by node.
    pub async fn node_statuses(&self) -> Result<Vec<(NodeId, NodeStatus)>, StoreError> {
        let rows = sqlx::query(
            "SELECT node_id, software_version, applied_revision, connections, bytes_up, \
             bytes_down, last_seen_at FROM node_status ORDER BY node_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let seen: i64 = row.try_get("last_seen_at")?;
                Ok((
                    NodeId(row.try_get("node_id")?),
                    NodeStatus {
                        software_version: row.try_get("software_version")?,
                        applied_revision: to_u64(
                            row.try_get("applied_revision")?,
                            "node_status.applied_revision",
                        )?,
                        connections: to_u64(
                            row.try_get("connections")?,
                            "node_status.connections",
                        )?,
                        bytes_up: to_u64(row.try_get("bytes_up")?, "node_status.bytes_up")?,
                        bytes_down: to_u64(row.try_get("bytes_down")?, "node_status.bytes_down")?,
                        last_seen_at: OffsetDateTime::from_unix_timestamp(seen)
                            .map_err(|_| StoreError::Corrupt("node_status.last_seen_at"))?,
                    },
                ))
            })
            .collect()
    }
}

async fn insert_join_token(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    node: NodeId,
    token: &JoinTokenHash,
    expires_at: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO node_join_tokens (token_sha256, node_id, expires_at) VALUES ($1, $2, $3)",
    )
    .bind(token.0.as_str())
    .bind(node.0)
    .bind(unix(expires_at))
    .execute(&mut **tx)
    .await?;
    Ok(())
}
