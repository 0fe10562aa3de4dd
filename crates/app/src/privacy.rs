//! Retention (policy section 8): erasing people whose last subscription ended more than
//! `[privacy] retention_days` ago and who have not used the service since — the same erasure as
//! a deletion — and pruning support tickets, bot bookkeeping, expired account links, the admin
//! panel's expired login links and sessions, its old audit entries and gift codes never
//! redeemed by their own declared
//! retention (`domain::inventory`). Reports counts only, never who.

use std::time::Duration as StdDuration;

use domain::inventory::{
    ACCESS_TOMBSTONE_RETENTION_DAYS, ADMIN_AUDIT_RETENTION_DAYS, BOT_UPDATE_RETENTION_DAYS,
    GIFT_CODE_RETENTION_DAYS, SUPPORT_TICKET_RETENTION_DAYS,
};
use time::{Duration, OffsetDateTime};
use tokio_util::sync::CancellationToken;

use crate::{App, AppError};

/// How often the retention job runs in `milly serve`.
pub const RETENTION_JOB_INTERVAL: StdDuration = StdDuration::from_secs(24 * 60 * 60);
/// How long after start the first run waits, so start-up is not slowed by it.
const FIRST_RUN_DELAY: StdDuration = StdDuration::from_secs(60);
/// How long a failed run waits before trying again.
const RETRY_AFTER_FAILURE: StdDuration = StdDuration::from_secs(60 * 60);

/// What a purge removed (or, in a dry run, would remove). Counts only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeReport {
    /// People erased because their retention period passed.
    pub people: u64,
    pub support_tickets: u64,
    pub bot_updates: u64,
    pub access_tombstones: u64,
    /// Expired account links (the website's short-lived data-page links).
    pub account_links: u64,
    /// The admin panel's expired login links and ended sessions.
    pub admin_sign_ins: u64,
    /// Admin audit entries and finished broadcasts past their retention.
    pub audit_entries: u64,
    /// Website sessions that ended more than a day ago.
    pub web_sessions: u64,
    /// Codes of gifts never redeemed within their retention, cleared.
    pub gift_codes: u64,
}

/// The instants before which each retention rule removes records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cutoffs {
    pub people: OffsetDateTime,
    pub support_tickets: OffsetDateTime,
    pub bot_updates: OffsetDateTime,
    pub access_tombstones: OffsetDateTime,
    pub audit_entries: OffsetDateTime,
    /// Admin panel sessions unused since then have ended.
    pub admin_idle: OffsetDateTime,
    /// Website sessions that ended by then go (their login data is refused as stale by then).
    pub web_sessions: OffsetDateTime,
    /// Gifts bought before then can no longer be redeemed.
    pub gift_codes: OffsetDateTime,
}

impl Cutoffs {
    pub fn at(now: OffsetDateTime, retention_days: u32) -> Cutoffs {
        let days = |d: u32| now - Duration::days(i64::from(d));
        Cutoffs {
            people: days(retention_days),
            support_tickets: days(SUPPORT_TICKET_RETENTION_DAYS),
            bot_updates: days(BOT_UPDATE_RETENTION_DAYS),
            access_tombstones: days(ACCESS_TOMBSTONE_RETENTION_DAYS),
            audit_entries: days(ADMIN_AUDIT_RETENTION_DAYS),
            admin_idle: now - crate::admin_session_idle(),
            web_sessions: now - domain::telegram_login::LOGIN_MAX_AGE,
            gift_codes: days(GIFT_CODE_RETENTION_DAYS),
        }
    }
}

impl App {
    /// Applies every retention rule at `now`; with `dry_run` only counts what would go.
    pub async fn purge_expired(
        &self,
        now: OffsetDateTime,
        dry_run: bool,
    ) -> Result<PurgeReport, AppError> {
        let cut = Cutoffs::at(now, self.settings().retention_days);
        let store = self.store();
        let people = store.inactive_users(cut.people).await?;
        if dry_run {
            return Ok(PurgeReport {
                people: people.len() as u64,
                support_tickets: store
                    .count_support_tickets_before(cut.support_tickets)
                    .await?,
                bot_updates: store.count_updates_before(cut.bot_updates).await?,
                access_tombstones: store
                    .count_access_tombstones_before(cut.access_tombstones)
                    .await?,
                account_links: store.count_expired_account_links(now).await?,
                admin_sign_ins: store
                    .count_expired_admin_sign_ins(now, cut.admin_idle)
                    .await?,
                audit_entries: store.count_audit_before(cut.audit_entries).await?
                    + store.count_broadcasts_before(cut.audit_entries).await?,
                web_sessions: store.count_ended_web_sessions(cut.web_sessions).await?,
                gift_codes: store.count_gift_codes_before(cut.gift_codes).await?,
            });
        }
        let mut report = PurgeReport::default();
        for id in people {
            match store.erase_user(id).await {
                Ok(()) => report.people += 1,
                // Deleted by someone else meanwhile: already gone, nothing to count.
                Err(store::StoreError::UserNotFound) => {}
                Err(err) => return Err(err.into()),
            }
        }
        report.support_tickets = store.purge_support_tickets(cut.support_tickets).await?;
        report.bot_updates = store.prune_updates(cut.bot_updates).await?;
        report.access_tombstones = store.prune_access_tombstones(cut.access_tombstones).await?;
        report.account_links = store.purge_account_links(now).await?;
        report.admin_sign_ins = store.purge_admin_sign_ins(now, cut.admin_idle).await?;
        report.audit_entries = store.purge_audit(cut.audit_entries).await?
            + store.purge_broadcasts(cut.audit_entries).await?;
        report.web_sessions = store.purge_web_sessions(cut.web_sessions).await?;
        report.gift_codes = store.expire_gift_codes(cut.gift_codes).await?;
        Ok(report)
    }
}

/// The daily retention job of `milly serve`: a first run a minute after start, then one a day,
/// until `shutdown`. A failed run is logged (without personal data) and retried in an hour.
pub async fn run_retention_job(app: App, shutdown: CancellationToken) {
    run_retention_job_every(app, shutdown, FIRST_RUN_DELAY, RETENTION_JOB_INTERVAL).await;
}

/// [`run_retention_job`] on a given schedule (tests run it at once).
pub async fn run_retention_job_every(
    app: App,
    shutdown: CancellationToken,
    first_run: StdDuration,
    interval: StdDuration,
) {
    let mut wait = first_run;
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
        wait = match app.purge_expired(OffsetDateTime::now_utc(), false).await {
            Ok(r) => {
                tracing::info!(
                    people = r.people,
                    support_tickets = r.support_tickets,
                    bot_updates = r.bot_updates,
                    access_tombstones = r.access_tombstones,
                    account_links = r.account_links,
                    admin_sign_ins = r.admin_sign_ins,
                    audit_entries = r.audit_entries,
                    web_sessions = r.web_sessions,
                    "retention purge done"
                );
                interval
            }
            Err(err) => {
                tracing::warn!(error = %err, "retention purge failed; retrying in an hour");
                RETRY_AFTER_FAILURE.min(interval)
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutoffs_lie_their_retention_before_now() {
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let cut = Cutoffs::at(now, 1095);
        assert_eq!(now - cut.people, Duration::days(1095));
        assert_eq!(
            now - cut.support_tickets,
            Duration::days(SUPPORT_TICKET_RETENTION_DAYS.into())
        );
        assert_eq!(
            now - cut.bot_updates,
            Duration::days(BOT_UPDATE_RETENTION_DAYS.into())
        );
        assert!(cut.access_tombstones < now);
    }
}
