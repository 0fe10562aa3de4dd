//! The control plane's identity towards its nodes, one row shared by every `milly serve` on
//! the database: the TLS certificate nodes pin at join, its key, and the feed's epoch.

use sqlx::Row as _;

use crate::{Store, StoreError};

/// What nodes know the control plane by. The key is secret; `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct ControlPlaneIdentity {
    pub certificate_pem: String,
    pub private_key_pem: String,
    /// Random; access revisions are only comparable within one epoch.
    pub feed_epoch: String,
}

impl std::fmt::Debug for ControlPlaneIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControlPlaneIdentity")
            .field("feed_epoch", &self.feed_epoch)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// The stored identity, or `candidate` stored as the identity if there is none yet. Two
    /// processes starting together both get the one that was stored first.
    pub async fn control_plane_identity(
        &self,
        candidate: &ControlPlaneIdentity,
    ) -> Result<ControlPlaneIdentity, StoreError> {
        sqlx::query(
            "INSERT INTO control_plane (id, certificate_pem, private_key_pem, feed_epoch) \
             VALUES (1, $1, $2, $3) ON CONFLICT (id) DO NOTHING",
        )
        .bind(candidate.certificate_pem.as_str())
        .bind(candidate.private_key_pem.as_str())
        .bind(candidate.feed_epoch.as_str())
        .execute(&self.pool)
        .await?;
        let row = sqlx::query(
            "SELECT certificate_pem, private_key_pem, feed_epoch FROM control_plane WHERE id = 1",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(ControlPlaneIdentity {
            certificate_pem: row.try_get("certificate_pem")?,
            private_key_pem: row.try_get("private_key_pem")?,
            feed_epoch: row.try_get("feed_epoch")?,
        })
    }

    /// Starts a new feed epoch, so every node takes a fresh snapshot instead of resuming: after
    /// a restore, revision numbers no longer mean what the nodes think.
    pub async fn renew_feed_epoch(&self, epoch: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE control_plane SET feed_epoch = $1 WHERE id = 1")
            .bind(epoch)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
