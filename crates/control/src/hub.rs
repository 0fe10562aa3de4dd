//! One poller per process learns each new access revision and wakes every node session, so
//! the database is asked "what is the revision" a few times a second however many nodes are
//! connected; each session then reads the changes after its own revision.

use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// How often the revision is read: well inside the second within which a block must reach
/// every node.
pub const POLL: Duration = Duration::from_millis(200);

/// The latest access revision this process has seen.
#[derive(Debug, Clone)]
pub struct FeedHub {
    revision: watch::Receiver<i64>,
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
        Self { revision: rx }
    }

    /// A receiver that wakes whenever the revision moves.
    pub fn subscribe(&self) -> watch::Receiver<i64> {
        self.revision.clone()
    }
}
