//! Handling updates concurrently: one lane per person (keyed by the sender's Telegram id), so a
//! person's updates run strictly in order while different people's run side by side; updates
//! without a sender share one lane. Pre-checkout queries skip the lanes altogether (the fast
//! path): Telegram waits only 10 s for their answer, whatever else is going on.
//!
//! Everything is in memory and bounded: [`MAX_LANES`] people with work in flight,
//! [`LANE_QUEUE`] updates queued per person, [`MAX_RUNNING`] lane handlers running at once. An
//! update over a bound is shed (counted in [`BotMetrics`]) — except a successful payment, which
//! always gets in (it was paid for, so it cannot be a cheap flood).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use teloxide_core::types::Update;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::ctx::Ctx;
use crate::metrics::InFlight;
use crate::offset::Hold;
use crate::{dispatch, BotMetrics};

/// People whose updates can be queued or running at once.
pub const MAX_LANES: usize = 256;
/// Updates one person can have waiting; more are shed.
pub const LANE_QUEUE: usize = 64;
/// Lane handlers running at once (each works the database and the Bot API); below the store's
/// pool of 10 connections, so the fast path and the website still find one.
const MAX_RUNNING: usize = 8;
/// Fast-path handlers running at once.
const MAX_FAST: usize = 32;
/// How long a pre-checkout query is worked on: Telegram cancels the payment after 10 s, so
/// an answer later than this is useless.
const FAST_DEADLINE: Duration = Duration::from_secs(8);

/// Which lane an update goes to: its sender's Telegram id, or the shared lane.
type LaneKey = Option<u64>;

/// An update accepted for handling.
pub struct Job {
    pub update: Update,
    /// Whether this delivery made the claim (see [`dispatch::claim`]).
    pub first_time: bool,
    /// Released once credited, or when handling ends (successful payments only).
    pub hold: Option<Hold>,
    /// Counted in flight until this job is dropped.
    pub _in_flight: InFlight,
}

#[derive(Clone)]
pub struct Lanes {
    inner: Arc<Inner>,
}

struct Inner {
    ctx: Ctx,
    metrics: BotMetrics,
    state: Mutex<State>,
    running: Semaphore,
    fast: Semaphore,
}

#[derive(Default)]
struct State {
    /// A key is present while its lane's worker runs; its queue holds what waits.
    queues: HashMap<LaneKey, VecDeque<Job>>,
    tasks: JoinSet<()>,
}

impl Lanes {
    pub fn new(ctx: Ctx, metrics: BotMetrics) -> Lanes {
        Lanes {
            inner: Arc::new(Inner {
                ctx,
                metrics,
                state: Mutex::new(State::default()),
                running: Semaphore::new(MAX_RUNNING),
                fast: Semaphore::new(MAX_FAST),
            }),
        }
    }

    /// Queues `job` behind its sender's earlier updates (or sheds it, counted).
    pub fn push(&self, job: Job) {
        let key = job.update.from().map(|user| user.id.0);
        let must_keep = job.hold.is_some();
        let mut state = self.inner.lock();
        while state.tasks.try_join_next().is_some() {}
        let lanes = state.queues.len();
        match state.queues.get_mut(&key) {
            Some(queue) if queue.len() < LANE_QUEUE || must_keep => queue.push_back(job),
            None if lanes < MAX_LANES || must_keep => {
                state.queues.insert(key, VecDeque::from([job]));
                state.tasks.spawn(work(self.inner.clone(), key));
            }
            _ => {
                drop(state);
                self.inner.metrics.count_shed();
                // Counted; one line per shed update would let a flood fill the log.
                tracing::debug!("an update was shed: its sender's queue or the lanes are full");
            }
        }
    }

    /// Handles `job` now, beside the lanes and within [`FAST_DEADLINE`].
    pub fn fast(&self, job: Job) {
        let inner = self.inner.clone();
        let mut state = self.inner.lock();
        while state.tasks.try_join_next().is_some() {}
        state.tasks.spawn(async move {
            let Ok(_permit) = inner.fast.acquire().await else {
                return;
            };
            let mut job = job;
            let handled = dispatch::handle_with_retries(
                &inner.ctx,
                &job.update,
                job.first_time,
                &mut job.hold,
            );
            if tokio::time::timeout(FAST_DEADLINE, handled).await.is_err() {
                tracing::warn!("a pre-checkout query could not be answered in time");
            }
        });
    }

    /// After shutdown: lets queued work finish for up to `grace`, then stops what is left
    /// (those updates were claimed, so they are not acted on after a restart either).
    pub async fn drain(&self, grace: Duration) {
        let mut tasks = std::mem::take(&mut self.inner.lock().tasks);
        let finished =
            tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
        if finished.is_err() {
            tracing::warn!(
                unfinished = tasks.len(),
                "lanes still busy at shutdown were stopped"
            );
            tasks.abort_all();
            self.inner.lock().queues.clear();
        }
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // No code panics while holding the lock; if some did, the queues are still whole.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A lane's worker: handles its queue in order and ends when the queue is empty.
async fn work(inner: Arc<Inner>, key: LaneKey) {
    loop {
        let mut job = {
            let mut state = inner.lock();
            match state.queues.get_mut(&key).and_then(VecDeque::pop_front) {
                Some(job) => job,
                None => {
                    state.queues.remove(&key);
                    return;
                }
            }
        };
        let Ok(_permit) = inner.running.acquire().await else {
            return;
        };
        // Failures are logged inside; a cancelled handler just lets the next one try.
        let _ =
            dispatch::handle_with_retries(&inner.ctx, &job.update, job.first_time, &mut job.hold)
                .await;
        drop(job);
    }
}
