//! Aggregate counters of what the bot's intake did with updates under load: how many it could
//! not read and how many it shed from a person flooding it. Counts only — never an update's
//! content or whose it was.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Shared, cheap to clone; the operator (or a test) reads it while the bot runs.
#[derive(Debug, Clone, Default)]
pub struct BotMetrics {
    inner: Arc<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    unreadable: AtomicU64,
    shed: AtomicU64,
    in_flight: AtomicU64,
}

impl BotMetrics {
    /// Updates skipped because the Bot API library could not parse them.
    pub fn unreadable_updates(&self) -> u64 {
        self.inner.unreadable.load(Ordering::Relaxed)
    }

    /// Updates dropped because their sender already had a full queue (or too many people had
    /// work in flight at once).
    pub fn shed_updates(&self) -> u64 {
        self.inner.shed.load(Ordering::Relaxed)
    }

    /// Updates accepted (claimed) whose handling has not ended yet.
    pub fn updates_in_flight(&self) -> u64 {
        self.inner.in_flight.load(Ordering::Relaxed)
    }

    /// Counts an update in flight until the returned guard is dropped.
    pub(crate) fn in_flight(&self) -> InFlight {
        self.inner.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight {
            metrics: self.clone(),
        }
    }

    pub(crate) fn count_unreadable(&self) {
        self.inner.unreadable.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_shed(&self) {
        self.inner.shed.fetch_add(1, Ordering::Relaxed);
    }
}

/// One update in flight; dropping it (handled, shed or abandoned) ends that.
pub(crate) struct InFlight {
    metrics: BotMetrics,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.metrics.inner.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}
