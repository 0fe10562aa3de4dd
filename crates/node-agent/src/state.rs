//! What the agent keeps across connections: the node's table and settings, the epoch its revision belongs to, and their cache on disk.

use std::path::PathBuf;
use std::sync::Arc;

use feed_wire::NodeSettings;
use node::{AccessTable, AccessUpdate, Applied, MetricsSnapshot};
use tokio::sync::watch;

use crate::cache;
use crate::snapshot::Complete;

/// Reads the node's aggregate counters (none while the data plane is not running).
pub type StatsSource = Arc<dyn Fn() -> Option<MetricsSnapshot> + Send + Sync>;

/// What the agent feeds: the node's access table, its settings (a watch the data plane
/// follows) and where it reads the counters it reports.
pub struct Feed {
    pub table: AccessTable,
    pub settings: watch::Sender<Option<NodeSettings>>,
    pub stats: StatsSource,
}

pub(crate) struct State {
    feed: Feed,
    cache_dir: PathBuf,
    /// The control plane's epoch of the table's revision; `None` until a snapshot (or a
    /// cached one) is in the table.
    epoch: Option<[u8; 16]>,
    /// The table changed since it was last written to disk.
    dirty: bool,
    /// The last write failed (logged once until one succeeds).
    save_failing: bool,
}

impl State {
    pub(crate) fn new(feed: Feed, cache_dir: PathBuf) -> Self {
        State {
            feed,
            cache_dir,
            epoch: None,
            dirty: false,
            save_failing: false,
        }
    }

    /// Fills the table and the settings from the cache, so the node serves before (or
    /// without) the control plane. A broken cache is ignored: the feed sends everything again.
    pub(crate) fn load_cache(&mut self) {
        match cache::read_access(&self.cache_dir) {
            Ok(Some(cached)) => {
                self.feed.table.install(cached.revision, cached.table);
                self.epoch = Some(cached.epoch);
                tracing::info!(
                    revision = self.feed.table.revision(),
                    users = self.feed.table.len(),
                    "control link: access table loaded from the cache"
                );
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "control link: access cache ignored"),
        }
        match cache::read_settings(&self.cache_dir) {
            Ok(Some(settings)) => {
                self.feed.settings.send_replace(Some(settings));
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "control link: settings cache ignored"),
        }
    }

    pub(crate) fn epoch(&self) -> Option<[u8; 16]> {
        self.epoch
    }

    pub(crate) fn table(&self) -> &AccessTable {
        &self.feed.table
    }

    pub(crate) fn stats(&self) -> Option<MetricsSnapshot> {
        (self.feed.stats)()
    }

    /// New settings: cached, then handed to the data plane (only when they changed).
    pub(crate) fn set_settings(&mut self, settings: NodeSettings) {
        if self.feed.settings.borrow().as_ref() == Some(&settings) {
            return;
        }
        if let Err(e) = cache::write_settings(&self.cache_dir, &settings) {
            tracing::warn!(error = %e, "control link: cannot cache the settings");
        }
        self.feed.settings.send_replace(Some(settings));
    }

    pub(crate) fn apply_snapshot(&mut self, snapshot: Complete) {
        self.feed.table.install(snapshot.revision, snapshot.table);
        self.epoch = Some(snapshot.epoch);
        self.dirty = true;
        tracing::info!(
            revision = snapshot.revision,
            users = self.feed.table.len(),
            "control link: snapshot applied"
        );
    }

    pub(crate) fn apply_changes(&mut self, update: AccessUpdate) -> Applied {
        let applied = self.feed.table.apply(update);
        if applied == Applied::Applied {
            self.dirty = true;
        }
        applied
    }

    /// Writes the table to the cache if it changed since the last write.
    pub(crate) async fn save_table(&mut self) {
        let (true, Some(epoch)) = (self.dirty, self.epoch) else {
            return;
        };
        self.dirty = false;
        let table = self.feed.table.view();
        let dir = self.cache_dir.clone();
        let written =
            tokio::task::spawn_blocking(move || cache::write_access(&dir, epoch, &table)).await;
        match written {
            Ok(Ok(())) => self.save_failing = false,
            Ok(Err(e)) => {
                self.dirty = true;
                if !std::mem::replace(&mut self.save_failing, true) {
                    tracing::warn!(error = %e, "control link: cannot write the access cache");
                }
            }
            Err(_) => self.dirty = true,
        }
    }
}
