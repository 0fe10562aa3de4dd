//! Nodes: the VLESS servers clients are told about.

use domain::{Location, NodeId, NodeSecurity, NodeSpec};
use sqlx::any::AnyRow;
use sqlx::Row as _;

use crate::{Store, StoreError};

pub(crate) const NODE_COLUMNS: &str = "id, name, location, public_host, port, security";

pub(crate) fn node_from_row(row: &AnyRow) -> Result<NodeSpec, StoreError> {
    let port: i64 = row.try_get("port")?;
    let security: String = row.try_get("security")?;
    Ok(NodeSpec {
        id: NodeId(row.try_get("id")?),
        name: row.try_get("name")?,
        location: Location(row.try_get("location")?),
        public_host: row.try_get("public_host")?,
        port: u16::try_from(port).map_err(|_| StoreError::Corrupt("nodes.port"))?,
        security: serde_json::from_str(&security)
            .map_err(|_| StoreError::Corrupt("nodes.security"))?,
        exits_via: None,
    })
}

impl Store {
    /// Adds the node called `name`, or replaces what is known about it.
    pub async fn upsert_node(
        &self,
        name: &str,
        location: &Location,
        public_host: &str,
        port: u16,
        security: &NodeSecurity,
    ) -> Result<NodeSpec, StoreError> {
        // Serializing a plain enum of strings and booleans cannot fail.
        let security_json =
            serde_json::to_string(security).map_err(|_| StoreError::Corrupt("nodes.security"))?;
        let sql = format!(
            "INSERT INTO nodes (name, location, public_host, port, security) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (name) DO UPDATE SET location = excluded.location, \
             public_host = excluded.public_host, port = excluded.port, \
             security = excluded.security RETURNING {NODE_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(name)
            .bind(location.0.as_str())
            .bind(public_host)
            .bind(i64::from(port))
            .bind(security_json)
            .fetch_one(&self.pool)
            .await?;
        node_from_row(&row)
    }

    /// The nodes clients are told about: the enabled ones, in the operator's order, each
    /// entry with the location of its exit.
    pub async fn list_nodes(&self) -> Result<Vec<NodeSpec>, StoreError> {
        let sql = format!(
            "SELECT {NODE_COLUMNS}, (SELECT x.location FROM nodes x \
             WHERE x.id = nodes.via_node_id) AS exit_location \
             FROM nodes WHERE enabled = 1 ORDER BY position, id"
        );
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                let exit: Option<String> = row.try_get("exit_location")?;
                Ok(NodeSpec {
                    exits_via: exit.map(Location),
                    ..node_from_row(row)?
                })
            })
            .collect()
    }

    pub async fn node(&self, name: &str) -> Result<Option<NodeSpec>, StoreError> {
        let sql = format!("SELECT {NODE_COLUMNS} FROM nodes WHERE name = $1");
        let row = sqlx::query(&sql)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(node_from_row).transpose()
    }

    /// Removes the node called `name`; `false` if there was none.
    pub async fn delete_node(&self, name: &str) -> Result<bool, StoreError> {
        let deleted = sqlx::query("DELETE FROM nodes WHERE name = $1")
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(deleted.rows_affected() > 0)
    }
}
