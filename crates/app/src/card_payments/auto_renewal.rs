//! Card auto-renewal, opt-in only: a person who ticked "renew automatically" at checkout has
//! their payment method saved at YooKassa, and [`AUTO_RENEWAL_LEAD`] before their subscription
//! ends (after the usual reminder says a charge is coming) the saved method is charged with
//! `payment_method_id` for the same plan. A declined charge is retried at most twice,
//! [`AUTO_RENEWAL_RETRY_AFTER`] apart, and the person is told each time; after the last one,
//! or at once when they revoked the permission at their bank, auto-renewal stops and the
//! method's id is deleted.
//!
//! Exactly once: each attempt is claimed in the store together with its pending payment
//! (`store::Store::claim_renewal_attempt`), so two processes never charge the same attempt;
//! the charge goes to YooKassa under an idempotence key of the person, the period and the
//! attempt; and crediting is the card payments' one exactly-once path ([`CardPayments::apply`],
//! shared with the webhook, the reconciler and the return page). No card data is read or
//! kept: only the method's id.

use std::time::Duration;

use billing::provider::{PayWith, PaymentRequest, RemotePayment, RemoteState, SavedMethod};
use billing::BillingError;
use domain::{Payment, PaymentStatus, PlanId, User, UserId};
use store::{AutoRenewal, NewPayment, RenewalAttempt};
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use super::{CardPayments, PaymentError};
use crate::{App, AppError};

/// How long before a subscription ends its renewal is charged.
pub const AUTO_RENEWAL_LEAD: time::Duration = time::Duration::days(1);
/// Attempts per period: the first charge and at most two retries.
pub const AUTO_RENEWAL_MAX_ATTEMPTS: u32 = 3;
/// How long after a declined charge the next attempt is made.
pub const AUTO_RENEWAL_RETRY_AFTER: time::Duration = time::Duration::hours(8);
/// An open attempt without YooKassa's id this old was given up by whoever claimed it (its
/// charge and retry take far less): the next round makes it again under the same key. Younger,
/// it is still being made, and another job racing it leaves it alone.
const RESEND_AFTER: time::Duration = time::Duration::minutes(10);

/// What the person hears about their auto-renewal, raised once per event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenewalNotice {
    pub user: UserId,
    pub kind: RenewalNoticeKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenewalNoticeKind {
    /// A charge was declined; this many more attempts will be made.
    Declined { retries_left: u32 },
    /// Auto-renewal stopped (the charges were declined, or the permission was revoked): the
    /// saved method is forgotten and the person has to pay by hand.
    Stopped,
}

/// A person's auto-renewal as the bot and the website show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoRenewalStatus {
    pub plan: PlanId,
    pub enabled_at: OffsetDateTime,
}

/// What one round of the renewal job did, as counts (never whose).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenewalReport {
    /// Charges that succeeded and were credited.
    pub renewed: usize,
    /// Charges declined (to be retried, or the last one).
    pub declined: usize,
    /// Auto-renewals stopped this round.
    pub stopped: usize,
    /// Charges YooKassa has not decided yet (settled later by the webhook or the reconciler).
    pub undecided: usize,
    /// Charges that could not be made (YooKassa unreachable, say).
    pub failed: usize,
}

impl App {
    /// The person's auto-renewal, if on.
    pub async fn auto_renewal(&self, user: UserId) -> Result<Option<AutoRenewalStatus>, AppError> {
        Ok(self
            .store()
            .auto_renewal(user)
            .await?
            .map(|r| AutoRenewalStatus {
                plan: r.plan,
                enabled_at: r.enabled_at,
            }))
    }

    /// Switches the person's auto-renewal off (the bot's button, the website's account page):
    /// the saved method's id is deleted at once and nothing more is charged. `true` if it was
    /// on.
    pub async fn switch_off_auto_renewal(&self, user: UserId) -> Result<bool, AppError> {
        let was_on = self.store().disable_auto_renewal(user).await?;
        if was_on {
            tracing::info!("auto-renewal switched off");
        }
        Ok(was_on)
    }
}

impl CardPayments {
    /// Every auto-renewal notice from now on (declined charges, stops), once each.
    pub fn subscribe_renewal_notices(&self) -> tokio::sync::broadcast::Receiver<RenewalNotice> {
        self.renewal_notices.subscribe()
    }

    /// After `ours` was credited as `remote` says: if its payer chose auto-renewal at checkout
    /// and YooKassa saved the method, auto-renewal is on with that method from now.
    pub(super) async fn remember_saved_method(
        &self,
        ours: &Payment,
        remote: &RemotePayment,
        now: OffsetDateTime,
    ) -> Result<(), PaymentError> {
        let (Some(user), Some(method)) = (ours.user_id, remote.saved_method.as_ref()) else {
            return Ok(());
        };
        let store = self.app.store();
        if !store.payment_saves_method(ours.id).await? {
            // Saved without the person's choice (another integration's setting): not used.
            return Ok(());
        }
        store
            .enable_auto_renewal(user, &ours.plan, method.as_str(), now)
            .await?;
        tracing::info!("auto-renewal switched on");
        Ok(())
    }

    /// One round of the renewal job at `now`: every auto-renewal whose subscription ends
    /// within [`AUTO_RENEWAL_LEAD`] gets its next attempt, if one is due.
    pub async fn renew_due(&self, now: OffsetDateTime) -> Result<RenewalReport, PaymentError> {
        let due = self
            .app
            .store()
            .auto_renewals_due(now + AUTO_RENEWAL_LEAD)
            .await?;
        let mut report = RenewalReport::default();
        for (renewal, subscription) in due {
            match self.renew(&renewal, subscription.ends_at, now).await {
                Ok(step) => step.count(&mut report),
                Err(e) if e.is_transient() => {
                    report.failed += 1;
                    tracing::warn!(error = %e, "auto-renewal paused until the next round");
                    break;
                }
                Err(e) => {
                    report.failed += 1;
                    tracing::error!(error = %e, "an auto-renewal charge failed");
                }
            }
        }
        Ok(report)
    }

    async fn renew(
        &self,
        renewal: &AutoRenewal,
        period_end: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Step, PaymentError> {
        let store = self.app.store();
        // The previous attempt is still open: ask YooKassa once more before any retry, or,
        // when its id was never recorded (the charge's answer was lost, or the process stopped
        // in between), make the same attempt again: the same request under the same
        // idempotence key, which YooKassa answers with the charge it already made, if any.
        if renewal.period_end == Some(period_end) {
            if let Some(previous) = renewal.payment_id {
                if let Some(p) = store.payment(previous).await? {
                    if p.status == PaymentStatus::Pending {
                        match &p.provider_payment_id {
                            Some(provider_id) => {
                                self.sync_provider_payment(provider_id, now).await?;
                            }
                            None if now - p.created_at < RESEND_AFTER => {
                                return Ok(Step::Nothing);
                            }
                            None => {
                                let Some(user) = store.user(renewal.user_id).await? else {
                                    return Ok(Step::Nothing);
                                };
                                let attempt = RenewalAttempt {
                                    payment: p,
                                    number: renewal.attempts,
                                    payment_method_id: renewal.payment_method_id.clone(),
                                };
                                return self.charge(&user, &attempt, period_end, now).await;
                            }
                        }
                    }
                }
            }
        }
        let Some(plan) = self
            .app
            .settings()
            .plans
            .iter()
            .find(|p| p.id == renewal.plan)
            .cloned()
        else {
            // The plan is no longer sold: stop rather than charge for something else.
            return self.stop(renewal.user_id).await;
        };
        let Some(price) = plan.price_rub.filter(|m| m.minor > 0) else {
            return self.stop(renewal.user_id).await;
        };
        let Some(user) = store.user(renewal.user_id).await? else {
            return Ok(Step::Nothing);
        };
        let new = NewPayment {
            user_id: user.id,
            provider: self.provider_kind(),
            provider_payment_id: None,
            plan: plan.id.clone(),
            days: plan.days,
            amount: price,
            created_at: now,
        };
        let attempt = store
            .claim_renewal_attempt(
                &new,
                period_end,
                now + AUTO_RENEWAL_RETRY_AFTER,
                AUTO_RENEWAL_MAX_ATTEMPTS,
            )
            .await?;
        let Some(attempt) = attempt else {
            if renewal.period_end == Some(period_end)
                && renewal.attempts >= AUTO_RENEWAL_MAX_ATTEMPTS
                && self.last_attempt_canceled(renewal).await?
            {
                return self.stop(renewal.user_id).await;
            }
            return Ok(Step::Nothing);
        };
        self.charge(&user, &attempt, period_end, now).await
    }

    async fn last_attempt_canceled(&self, renewal: &AutoRenewal) -> Result<bool, PaymentError> {
        let Some(id) = renewal.payment_id else {
            return Ok(false);
        };
        let payment = self.app.store().payment(id).await?;
        Ok(payment.is_some_and(|p| p.status == PaymentStatus::Canceled))
    }

    /// Charges the saved method for the claimed attempt and settles our payment by YooKassa's
    /// answer.
    async fn charge(
        &self,
        user: &User,
        attempt: &RenewalAttempt,
        period_end: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Step, PaymentError> {
        let payment = &attempt.payment;
        let description = format!(
            "{}: {} ({} days), auto-renewal",
            self.app.settings().service_name,
            payment.plan,
            payment.days.0
        );
        let receipt_email = match self.receipt_email(self.app.receipt_email(user)) {
            Ok(r) => r,
            Err(_) => {
                self.cancel_uncreated(payment.id, now).await?;
                return Err(PaymentError::Unexpected(
                    "no receipt email for an auto-renewal charge",
                ));
            }
        };
        let request = PaymentRequest {
            payment: payment.id,
            amount: payment.amount,
            description,
            gift: false,
            receipt_email,
            pay_with: PayWith::Saved(SavedMethod::new(attempt.payment_method_id.clone())),
        };
        let key = renewal_idempotence_key(user.id, period_end, attempt.number);
        let mut created = self.provider.create(&request, &key).await;
        if created.as_ref().is_err_and(BillingError::is_transient) {
            created = self.provider.create(&request, &key).await;
        }
        let remote = match created {
            Ok(remote) => remote,
            Err(e) if e.is_transient() => {
                // It may have reached YooKassa: left pending without an id (the reconciler
                // leaves an open renewal attempt alone), the next round makes this same
                // attempt again under the same key, so it is never charged twice.
                return Err(e.into());
            }
            Err(e) => {
                // Refused outright (the method is gone at YooKassa): no retry can work.
                self.cancel_uncreated(payment.id, now).await?;
                tracing::warn!(error = %e, "YooKassa refused an auto-renewal charge");
                return self.stop(user.id).await;
            }
        };
        self.app
            .store()
            .set_provider_payment_id(payment.id, self.provider_kind(), &remote.id)
            .await?;
        let ours = self
            .app
            .store()
            .payment(payment.id)
            .await?
            .ok_or(PaymentError::PaymentNotFound)?;
        // Whoever settles the payment (this call, or a webhook or another job's check racing
        // it) tells the person of a decline, once (`after_renewal_canceled`); this attempt's
        // report is read from where the payment ended up, so a race changes no count.
        self.apply(&ours, &remote, now).await?;
        let settled = self
            .app
            .store()
            .payment(payment.id)
            .await?
            .ok_or(PaymentError::PaymentNotFound)?;
        Ok(match settled.status {
            PaymentStatus::Succeeded => Step::Renewed,
            PaymentStatus::Canceled if permission_revoked(&remote) => Step::Stopped,
            PaymentStatus::Canceled if attempt.number >= AUTO_RENEWAL_MAX_ATTEMPTS => {
                Step::DeclinedAndStopped
            }
            PaymentStatus::Canceled => Step::Declined,
            PaymentStatus::Pending => Step::Undecided,
            PaymentStatus::Refunded => Step::Nothing,
        })
    }

    /// `ours` was just moved to canceled by YooKassa's word (once: by the caller whose
    /// conditional update did it). If it was an auto-renewal's open attempt, the person hears
    /// the charge was declined, whether YooKassa declined at once or left it pending and
    /// declined later; after the last attempt, or when the permission was revoked, auto-renewal
    /// stops (and they are told that instead).
    pub(super) async fn after_renewal_canceled(
        &self,
        ours: &Payment,
        remote: &RemotePayment,
    ) -> Result<(), PaymentError> {
        let Some(user) = ours.user_id else {
            return Ok(());
        };
        let Some(renewal) = self.app.store().auto_renewal(user).await? else {
            return Ok(());
        };
        if renewal.payment_id != Some(ours.id) {
            return Ok(());
        }
        let retries_left = AUTO_RENEWAL_MAX_ATTEMPTS.saturating_sub(renewal.attempts);
        if retries_left == 0 || permission_revoked(remote) {
            self.stop(user).await?;
        } else {
            self.notify(user, RenewalNoticeKind::Declined { retries_left });
        }
        Ok(())
    }

    /// Stops the person's auto-renewal (its method id deleted) and tells them, once: only the
    /// caller whose delete removed the row says so.
    async fn stop(&self, user: UserId) -> Result<Step, PaymentError> {
        if self.app.store().disable_auto_renewal(user).await? {
            tracing::info!("auto-renewal stopped");
            self.notify(user, RenewalNoticeKind::Stopped);
            return Ok(Step::Stopped);
        }
        Ok(Step::Nothing)
    }

    fn notify(&self, user: UserId, kind: RenewalNoticeKind) {
        // Nobody listening is fine: the bot may be off.
        let _ = self.renewal_notices.send(RenewalNotice { user, kind });
    }
}

/// What one auto-renewal did this round.
enum Step {
    Nothing,
    Renewed,
    Declined,
    DeclinedAndStopped,
    Stopped,
    Undecided,
}

impl Step {
    fn count(self, report: &mut RenewalReport) {
        match self {
            Step::Nothing => {}
            Step::Renewed => report.renewed += 1,
            Step::Declined => report.declined += 1,
            Step::DeclinedAndStopped => {
                report.declined += 1;
                report.stopped += 1;
            }
            Step::Stopped => report.stopped += 1,
            Step::Undecided => report.undecided += 1,
        }
    }
}

/// Runs [`CardPayments::renew_due`] every `every` until `shutdown` (on the leader only).
pub async fn run_auto_renewals(cards: CardPayments, every: Duration, shutdown: CancellationToken) {
    loop {
        match cards.renew_due(OffsetDateTime::now_utc()).await {
            Ok(report) if report != RenewalReport::default() => {
                tracing::info!(
                    renewed = report.renewed,
                    declined = report.declined,
                    stopped = report.stopped,
                    undecided = report.undecided,
                    failed = report.failed,
                    "auto-renewal round"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "auto-renewal round failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = shutdown.cancelled() => return,
        }
    }
}

/// One key per person, period and attempt: however often the same attempt is sent (a retried
/// request, or the next round making an attempt whose answer was lost), YooKassa makes one
/// charge of it.
fn renewal_idempotence_key(user: UserId, period_end: OffsetDateTime, attempt: u32) -> String {
    format!(
        "milly-renew-{}-{}-{attempt}",
        user.0,
        domain::unix_seconds(period_end)
    )
}

/// The person withdrew the saved method's permission: charging it again cannot work.
fn permission_revoked(remote: &RemotePayment) -> bool {
    matches!(
        remote.state,
        RemoteState::Canceled {
            permission_revoked: true
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attempt_is_made_again_only_after_its_maker_gave_up() {
        let charge_worst_case = time::Duration::try_from(billing::API_TIMEOUT * 2).unwrap();
        assert!(RESEND_AFTER > charge_worst_case * 2);
    }

    #[test]
    fn the_idempotence_key_is_the_attempt() {
        let end = OffsetDateTime::UNIX_EPOCH + time::Duration::days(30);
        let key = renewal_idempotence_key(UserId(7), end, 2);
        assert_eq!(key, "milly-renew-7-2592000-2");
        assert_eq!(key, renewal_idempotence_key(UserId(7), end, 2));
        assert_ne!(key, renewal_idempotence_key(UserId(7), end, 3));
        assert_ne!(key, renewal_idempotence_key(UserId(8), end, 2));
    }
}
