//! The reads behind the access feed that drives the nodes: a versioned snapshot of who may
//! connect, then the changes after a revision. Nodes never query the database; the control
//! plane reads through here and pushes what it read.

use crate::{App, AppError};

pub use store::{AccessChanges, AccessRow, AccessSnapshot};

impl App {
    /// The current access revision: it moves whenever anyone's access changes.
    pub async fn access_revision(&self) -> Result<i64, AppError> {
        Ok(self.store().access_revision().await?)
    }

    /// Everyone who may connect, as of the snapshot's revision.
    pub async fn access_snapshot(&self) -> Result<AccessSnapshot, AppError> {
        Ok(self.store().access_snapshot().await?)
    }

    /// What changed after `revision`; `None` when that can no longer be told (the caller then
    /// starts over from a snapshot).
    pub async fn access_changes_since(
        &self,
        revision: i64,
    ) -> Result<Option<AccessChanges>, AppError> {
        Ok(self.store().access_changes_since(revision).await?)
    }
}
