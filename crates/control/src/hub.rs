//! One poller per process learns each new access revision and wakes every node session, so
//! the database is asked "what is the revision" a few times a second however many nodes are
//! connected. Sessions at the same revision (every node, usually) share one read of the
//! changes after it: the newest read is kept here. The hub also caps how many snapshots
//! stream at once, each holding a database connection while it does.

use std::sync::Arc;
use std::time::Duration;

use app::{AccessChanges, AppError};
use feed_wire::MAX_CHUNK_ENTRIES;
use tokio::sync::{watch, Mutex, Semaphore, SemaphorePermit};
use tokio_util::sync::CancellationToken;

/// How often the revision is read: well inside the second within which a block must reach
/// every node.
pub const POLL: Duration = Duration::from_millis(200);

/// Most snapshots streamed at once by one process: each holds one of the store's pooled
/// connections (10) until its last page, and the rest of the process needs some too. Nodes
/// beyond this wait their turn.
pub const MAX_CONCURRENT_SNAPSHOTS: usize = 4;

/// The latest access revision this process has seen.
#[derive(Debug, Clone)]
pub struct FeedHub {
    revision: watch::Receiver<i64>,
    snapshots: Arc<Semaphore>,
    newest: Arc<Mutex<Option<SharedChanges>>>,
}

/// The changes after `from` as last read from the store, for every session at `from`.
#[derive(Debug)]
struct SharedChanges {
    from: i64,
    changes: Arc<AccessChanges>,
}

impl FeedHub {
    /// Starts the poller; it stops with `shutdown`.
    pub fn start(app: app::App, shutdown: CancellationToken) -> Self {
        let (tx, rx) = watch::channel(0);
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(POLL);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = ticker.tick() => {}
                }
                match app.access_revision().await {
                    Ok(revision) => {
                        tx.send_if_modified(|current| {
                            let moved = *current != revision;
                            *current = revision;
                            moved
                        });
                    }
                    // Sessions keep serving what they have; nodes keep their tables.
                    Err(e) => {
                        tracing::warn!(error = %e, "node feed: cannot read the access revision")
                    }
                }
            }
        });
        Self {
            revision: rx,
            snapshots: Arc::new(Semaphore::new(MAX_CONCURRENT_SNAPSHOTS)),
            newest: Arc::new(Mutex::new(None)),
        }
    }

    /// A receiver that wakes whenever the revision moves.
    pub fn subscribe(&self) -> watch::Receiver<i64> {
        self.revision.clone()
    }

    /// A turn to stream a snapshot, held until dropped; waits while
    /// [`MAX_CONCURRENT_SNAPSHOTS`] others stream.
    pub async fn snapshot_slot(&self) -> Option<SemaphorePermit<'_>> {
        // The semaphore is never closed; if it were, streaming without a turn is still right.
        self.snapshots.acquire().await.ok()
    }

    /// What changed after `from` (`None`: the store cannot tell, or more changed than one
    /// message holds; take a snapshot). One read
    /// serves every session at `from`: a read is reused while it reaches the newest revision
    /// the poller has seen, and sessions woken together wait for the first one's read instead
    /// of each asking the database the same question.
    pub async fn changes_since(
        &self,
        app: &app::App,
        from: i64,
    ) -> Result<Option<Arc<AccessChanges>>, AppError> {
        let mut newest = self.newest.lock().await;
        if let Some(shared) = newest.as_ref() {
            if shared.from == from && shared.changes.revision >= *self.revision.borrow() {
                return Ok(Some(shared.changes.clone()));
            }
        }
        // More than one message holds is sent as a snapshot: never read (or kept) here.
        let Some(changes) = app.access_changes_since(from, MAX_CHUNK_ENTRIES).await? else {
            return Ok(None);
        };
        let changes = Arc::new(changes);
        *newest = Some(SharedChanges {
            from,
            changes: changes.clone(),
        });
        Ok(Some(changes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::testing::TestDb;
    use time::OffsetDateTime;

    async fn seen(hub: &FeedHub, app: &app::App) {
        let now = app.access_revision().await.unwrap();
        let mut revisions = hub.subscribe();
        while *revisions.borrow_and_update() < now {
            revisions.changed().await.unwrap();
        }
    }

    #[tokio::test]
    async fn sessions_at_one_revision_share_a_read_until_a_newer_revision_is_seen() {
        let db = TestDb::sqlite().await;
        let app = app::App::new(db.store.clone(), app::AppSettings::default());
        let shutdown = CancellationToken::new();
        let hub = FeedHub::start(app.clone(), shutdown.clone());
        let now = OffsetDateTime::now_utc();
        let from = app.access_revision().await.unwrap();
        db.subscriber(1, "month", 30, now).await;
        seen(&hub, &app).await;

        let first = hub.changes_since(&app, from).await.unwrap().unwrap();
        let second = hub.changes_since(&app, from).await.unwrap().unwrap();
        assert!(Arc::ptr_eq(&first, &second), "one read for both");
        assert_eq!(first.upserts.len(), 1);

        // Another revision: the old read no longer reaches the newest, so it is read again.
        db.subscriber(2, "month", 30, now).await;
        seen(&hub, &app).await;
        let third = hub.changes_since(&app, from).await.unwrap().unwrap();
        assert!(!Arc::ptr_eq(&first, &third));
        assert_eq!(third.upserts.len(), 2);
        // A session elsewhere gets its own changes, and a revision the store cannot tell none.
        let later = hub
            .changes_since(&app, first.revision)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(later.upserts.len(), 1);
        assert!(hub.changes_since(&app, i64::MAX).await.unwrap().is_none());
        shutdown.cancel();
    }
}
