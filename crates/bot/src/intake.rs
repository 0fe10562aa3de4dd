//! Where every update enters, from long polling or the webhook: unreadable ones are counted and
//! skipped; the rest are claimed in the store (a second delivery acts once) and handed to the
//! fast path (pre-checkout queries) or to their sender's lane. Successful payments are held
//! until credited (see [`crate::offset`]).

use std::collections::BTreeSet;

use teloxide_core::types::{Update, UpdateKind};
use tokio::sync::oneshot;

use crate::ctx::Ctx;
use crate::lanes::{Job, Lanes};
use crate::offset::Holds;
use crate::{dispatch, BotError, BotMetrics};

pub struct Intake {
    lanes: Lanes,
    holds: Holds,
    metrics: BotMetrics,
    ctx: Ctx,
}

/// What became of an accepted update.
pub enum Accepted {
    /// Claimed and handed on: it may be confirmed.
    Claimed,
    /// A successful payment: confirm it once the receiver resolves.
    Held(oneshot::Receiver<()>),
}

impl Intake {
    pub fn new(ctx: Ctx, metrics: BotMetrics) -> Intake {
        Intake {
            lanes: Lanes::new(ctx.clone(), metrics.clone()),
            holds: Holds::default(),
            metrics,
            ctx,
        }
    }

    pub fn holds(&self) -> &Holds {
        &self.holds
    }

    pub fn lanes(&self) -> &Lanes {
        &self.lanes
    }

    /// Counts an update the Bot API library cannot parse. Only its id is logged: its content
    /// is a person's.
    pub fn unreadable(&self, id: Option<i64>) {
        self.metrics.count_unreadable();
        tracing::warn!(
            update_id = id,
            "an update could not be read and was skipped"
        );
    }

    /// Claims `update` and hands it on; an error (the store is unreachable) means it was not
    /// accepted and must not be confirmed.
    pub async fn accept(&self, update: Update) -> Result<Accepted, BotError> {
        let first_time = dispatch::claim(&self.ctx, &update).await?;
        Ok(self.hand_on(update, first_time))
    }

    /// Claims a batch of update ids in one go; returns those this delivery claimed first.
    pub async fn claim_all(&self, ids: &[i64]) -> Result<BTreeSet<i64>, BotError> {
        Ok(self.ctx.app.claim_updates(ids, self.ctx.now()).await?)
    }

    /// Hands a claimed update to the fast path or its lane.
    pub fn hand_on(&self, update: Update, first_time: bool) -> Accepted {
        let in_flight = self.metrics.in_flight();
        let mut job = Job {
            first_time,
            hold: None,
            _in_flight: in_flight,
            update,
        };
        if is_pre_checkout(&job.update) {
            self.lanes.fast(job);
            return Accepted::Claimed;
        }
        if is_payment(&job.update) {
            let (hold, released) = self.holds.hold(i64::from(job.update.id.0));
            job.hold = Some(hold);
            self.lanes.push(job);
            return Accepted::Held(released);
        }
        self.lanes.push(job);
        Accepted::Claimed
    }
}

pub fn is_pre_checkout(update: &Update) -> bool {
    matches!(update.kind, UpdateKind::PreCheckoutQuery(_))
}

fn is_payment(update: &Update) -> bool {
    matches!(&update.kind, UpdateKind::Message(m) if m.successful_payment().is_some())
}
