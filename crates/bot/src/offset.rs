//! Which updates long polling may confirm. Telegram forgets every update below the offset the
//! next `getUpdates` sends, so the offset only moves past updates that are *accepted*: durably
//! claimed in the store (`Store::claim_update`) and handed to their lane, or skipped as
//! unreadable. A claimed update acts at most once whatever happens next, exactly as before
//! lanes existed; the price of confirming before handling finishes is that a crash loses the
//! claimed updates still queued in memory (at most `LANE_QUEUE` per person) instead of only the
//! one in hand. Confirming only finished updates instead would let one flooding person's
//! backlog fill every batch Telegram hands out, and nobody behind them would be fetched.
//!
//! Successful payments are the exception: they are *held*, and the offset stays at the lowest
//! held id until the payment is credited (or refunded), so a crash before that gets it
//! delivered again (payments are credited by their charge id, so a redelivery credits at most
//! once). While a hold lasts, Telegram hands out the same updates after it again; they are
//! recognised as accepted and not acted on twice.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{oneshot, Notify};

/// The ids of updates whose handling must finish before they are confirmed.
#[derive(Clone, Default)]
pub struct Holds {
    inner: Arc<HoldsInner>,
}

#[derive(Default)]
struct HoldsInner {
    ids: Mutex<BTreeSet<i64>>,
    released: Notify,
}

/// A held update; dropping it (when its handling ends, however) releases it.
pub struct Hold {
    id: i64,
    holds: Holds,
    done: Option<oneshot::Sender<()>>,
}

impl Holds {
    fn ids(&self) -> MutexGuard<'_, BTreeSet<i64>> {
        // Nothing panics while holding the lock; if something did, the set is still whole.
        self.inner.ids.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Holds update `id`; the receiver resolves once it is released.
    pub fn hold(&self, id: i64) -> (Hold, oneshot::Receiver<()>) {
        self.ids().insert(id);
        let (done, released) = oneshot::channel();
        let hold = Hold {
            id,
            holds: self.clone(),
            done: Some(done),
        };
        (hold, released)
    }

    pub fn lowest(&self) -> Option<i64> {
        self.ids().first().copied()
    }

    /// Resolves at the next release.
    pub async fn released(&self) {
        self.inner.released.notified().await;
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        self.holds.ids().remove(&self.id);
        if let Some(done) = self.done.take() {
            // The webhook may have stopped waiting; nothing to do then.
            let _ = done.send(());
        }
        self.holds.inner.released.notify_waiters();
    }
}

/// The polling side's bookkeeping: what was accepted, and the offset to send next.
#[derive(Default)]
pub struct Offset {
    /// One past the highest id accepted so far, with no unaccepted id below it in its batch.
    through: Option<i64>,
    /// Accepted ids at or above the last offset sent: a batch that repeats them (because a
    /// hold kept the offset back) must not act on them twice.
    accepted: BTreeSet<i64>,
}

impl Offset {
    /// Whether `id` was not accepted before (ids below the last offset sent never come back).
    pub fn is_new(&self, id: i64) -> bool {
        !self.accepted.contains(&id)
    }

    pub fn accept(&mut self, id: i64) {
        self.accepted.insert(id);
    }

    /// Every update of a batch up to and including `id` is accepted.
    pub fn accepted_through(&mut self, id: i64) {
        let next = id.saturating_add(1);
        self.through = Some(self.through.map_or(next, |t| t.max(next)));
    }

    /// The offset for the next `getUpdates`: past everything accepted, but not past a hold.
    pub fn next(&mut self, lowest_hold: Option<i64>) -> Option<i64> {
        let offset = match (self.through, lowest_hold) {
            (Some(t), Some(h)) => Some(t.min(h)),
            (t, None) => t,
            (None, Some(h)) => Some(h),
        };
        if let Some(offset) = offset {
            self.accepted = self.accepted.split_off(&offset);
        }
        offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offset_moves_past_accepted_updates_but_not_past_a_hold() {
        let holds = Holds::default();
        let mut offset = Offset::default();
        for id in [10, 11, 12] {
            offset.accept(id);
        }
        offset.accepted_through(12);
        let (hold, mut released) = holds.hold(11);
        assert_eq!(offset.next(holds.lowest()), Some(11));
        // Telegram hands 11 and 12 out again: neither acts twice.
        assert!(!offset.is_new(11) && !offset.is_new(12));
        assert!(offset.is_new(13));
        drop(hold);
        assert!(released.try_recv().is_ok());
        assert_eq!(offset.next(holds.lowest()), Some(13));
    }

    #[test]
    fn a_batch_cut_short_is_fetched_again_from_where_it_stopped() {
        let mut offset = Offset::default();
        offset.accept(5);
        offset.accepted_through(5);
        // 6 could not be claimed; 7 (a pre-checkout query) was accepted out of order.
        offset.accept(7);
        assert_eq!(offset.next(None), Some(6));
        assert!(offset.is_new(6));
        assert!(!offset.is_new(7));
    }
}
