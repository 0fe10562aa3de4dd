//! The reads behind the access feed that drives the nodes: a versioned snapshot of who may
//! connect, read in pages, then the changes after a revision. Nodes never query the database;
//! the control plane reads through here and pushes what it read.

use crate::{App, AppError};

pub use store::{AccessChanges, AccessRow};

/// Everyone who may connect as of one revision, read a page at a time so that memory holds a
/// page, not the table. Holds a database connection until the last page is read (or until
/// dropped).
#[derive(Debug)]
pub struct AccessPages(store::AccessSnapshotPages);

impl AccessPages {
    /// The revision every page belongs to.
    pub fn revision(&self) -> i64 {
        self.0.revision()
    }

    /// How many entries all the pages hold.
    pub fn total(&self) -> u64 {
        self.0.total()
    }

    /// The next at most `limit` entries; empty once all were read.
    pub async fn next_page(&mut self, limit: usize) -> Result<Vec<AccessRow>, AppError> {
        Ok(self.0.next_page(limit).await?)
    }
}

impl App {
    /// The current access revision: it moves whenever anyone's access changes.
    pub async fn access_revision(&self) -> Result<i64, AppError> {
        Ok(self.store().access_revision().await?)
    }

    /// Everyone who may connect, as of one revision, to be read in pages.
    pub async fn access_snapshot_pages(&self) -> Result<AccessPages, AppError> {
        Ok(AccessPages(self.store().access_snapshot_pages().await?))
    }

    /// What changed after `revision`, if at most `at_most` credentials did; `None` when that
    /// can no longer be told or is more (the caller then starts over from a snapshot).
    pub async fn access_changes_since(
        &self,
        revision: i64,
        at_most: usize,
    ) -> Result<Option<AccessChanges>, AppError> {
        Ok(self.store().access_changes_since(revision, at_most).await?)
    }
}
