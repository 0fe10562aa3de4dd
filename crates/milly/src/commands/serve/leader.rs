//! The jobs that must run in one process at a time when several `milly serve` share one
//! PostgreSQL: the bot (long polling or webhook registration, its reminders and the admins'
//! node alerts, which keep their "told once" state in the store), the payment
//! reconciler and card auto-renewal, the retention purge and scheduled backups. Each process
//! asks the store for leadership every [`RETRY`]; the leader runs them and checks every
//! [`RETRY`] that its lease still holds. When the leader dies its database session ends, the lock is free, and another
//! process starts the jobs within a few seconds. On SQLite the one process always leads.

use std::time::Duration;

use anyhow::Result;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::telegram;

/// How often a follower asks for leadership, and a leader checks it still has it.
pub const RETRY: Duration = Duration::from_secs(2);

/// How often the auto-renewal job looks for charges due (a day before the end, so minutes
/// of delay cost nothing).
const AUTO_RENEWAL_EVERY: Duration = Duration::from_secs(300);

/// What the singleton jobs need.
#[derive(Clone)]
pub struct Singletons {
    pub app: app::App,
    pub bot: Option<bot::BotOptions>,
    /// The card payments' use cases and how often their reconciler runs.
    pub reconciler: Option<(app::CardPayments, Duration)>,
}

impl Singletons {
    fn spawn(&self, stop: &CancellationToken) -> JoinSet<Result<()>> {
        let mut jobs = JoinSet::new();
        if let Some(options) = self.bot.clone() {
            jobs.spawn(telegram::run_bot(self.app.clone(), options, stop.clone()));
        }
        if let Some((cards, every)) = self.reconciler.clone() {
            let renewals = (cards.clone(), stop.clone());
            let stop = stop.clone();
            jobs.spawn(async move {
                app::run_reconciler(cards, every, stop).await;
                Ok(())
            });
            // Card auto-renewal: charges are claimed in the store, so even a handover that
            // briefly runs two leaders charges each attempt once.
            jobs.spawn(async move {
                let (cards, stop) = renewals;
                app::run_auto_renewals(cards, AUTO_RENEWAL_EVERY, stop).await;
                Ok(())
            });
        }
        let (app, retention_stop) = (self.app.clone(), stop.clone());
        jobs.spawn(async move {
            app::privacy::run_retention_job(app, retention_stop).await;
            Ok(())
        });
        let (app, backup_stop) = (self.app.clone(), stop.clone());
        jobs.spawn(async move {
            app::backup::run_scheduled_backups(app, backup_stop).await;
            Ok(())
        });
        jobs
    }
}

/// Runs the singleton jobs whenever this process leads, until `shutdown`. Returns an error
/// only when a job fails by itself (as any other service of `serve` would).
pub async fn run(singletons: Singletons, shutdown: CancellationToken) -> Result<()> {
    loop {
        let Some(mut lease) = acquire(&singletons.app, &shutdown).await else {
            return Ok(());
        };
        println!(
            "leader: this process runs the bot, reminders, node alerts, reconciler, \
             auto-renewal, retention and backups"
        );
        let stop = shutdown.child_token();
        let mut jobs = singletons.spawn(&stop);
        let mut check = tokio::time::interval(RETRY);
        let failure = loop {
            tokio::select! {
                _ = shutdown.cancelled() => break None,
                _ = check.tick() => {
                    if !lease.still_held().await {
                        println!("leader: lost the database session; stopping the singleton jobs");
                        break None;
                    }
                }
                Some(ended) = jobs.join_next() => {
                    break Some(match ended {
                        Ok(Ok(())) => anyhow::anyhow!("a singleton job stopped unexpectedly"),
                        Ok(Err(e)) => e,
                        Err(e) => anyhow::anyhow!("a singleton job crashed: {e}"),
                    });
                }
            }
        };
        stop.cancel();
        while jobs.join_next().await.is_some() {}
        lease.release().await;
        if let Some(e) = failure {
            return Err(e);
        }
        if shutdown.is_cancelled() {
            return Ok(());
        }
    }
}

/// Leadership as soon as it is free; `None` on shutdown.
async fn acquire(app: &app::App, shutdown: &CancellationToken) -> Option<app::LeaderLease> {
    let mut said = false;
    loop {
        match app.try_lead().await {
            Ok(Some(lease)) => return Some(lease),
            Ok(None) if !said => {
                println!("leader: another process leads; standing by");
                said = true;
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "cannot ask the database for leadership"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return None,
            _ = tokio::time::sleep(RETRY) => {}
        }
    }
}
