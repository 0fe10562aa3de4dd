//! Bringing one of our card payments in line with what the provider's API says about it.
//! Every path that settles a card payment (webhook, reconciler, return page, auto-renewal)
//! goes through here, and the store credits a payment at most once however many of them race.

use billing::provider::{RemotePayment, RemoteState};
use domain::{Payment, PaymentStatus, Subscription};
use store::{Settlement, StoreError};
use time::OffsetDateTime;

use super::{CardPaid, CardPayments, GiftPaid, PaymentError};

/// What asking the API about a payment did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncOutcome {
    /// It had succeeded and this call credited the plan.
    Credited(Subscription),
    /// It was a gift, had succeeded, and this call made its code redeemable.
    GiftPaid,
    /// It had been canceled and is now marked so.
    Canceled,
    /// Nothing to do: still pending at the provider, or already settled here.
    Unchanged,
    /// The provider knows no such payment.
    Unknown,
    /// The provider knows it, but it is not one of ours (another integration on the same shop).
    NotOurs,
    /// The provider reports an amount or state that does not match our record: not credited.
    Mismatch,
    /// It succeeded after its payer erased their account: this call gave the money back
    /// through the provider's refunds and marked it refunded (the admins are told).
    RefundedUncreditable,
}

impl CardPayments {
    /// Asks the API about the provider's payment `provider_id` and settles our payment
    /// accordingly.
    pub async fn sync_provider_payment(
        &self,
        provider_id: &str,
        now: OffsetDateTime,
    ) -> Result<SyncOutcome, PaymentError> {
        let Some(remote) = self.provider.payment(provider_id).await? else {
            return Ok(SyncOutcome::Unknown);
        };
        let store = self.app.store();
        let kind = self.provider_kind();
        let ours = match store.payment_by_provider_id(kind, &remote.id).await? {
            Some(p) => Some(p),
            // Created at the provider but its id not recorded yet (a crash or a race): the
            // metadata we set leads back, as long as that payment has no other id.
            None => match remote.our_payment {
                Some(id) => store
                    .payment(id)
                    .await?
                    .filter(|p| p.provider == kind && p.provider_payment_id.is_none()),
                None => None,
            },
        };
        match ours {
            Some(ours) => self.apply(&ours, &remote, now).await,
            None => Ok(SyncOutcome::NotOurs),
        }
    }

    /// Settles `ours` as `remote` (fresh from the API) says.
    pub(super) async fn apply(
        &self,
        ours: &Payment,
        remote: &RemotePayment,
        now: OffsetDateTime,
    ) -> Result<SyncOutcome, PaymentError> {
        let status = match remote.state {
            RemoteState::Succeeded => PaymentStatus::Succeeded,
            RemoteState::Canceled { .. } => PaymentStatus::Canceled,
            RemoteState::Pending => return Ok(SyncOutcome::Unchanged),
        };
        if status == PaymentStatus::Succeeded && remote.amount != Some(ours.amount) {
            tracing::error!(
                "the provider reports a different amount for a card payment; not credited"
            );
            return Ok(SyncOutcome::Mismatch);
        }
        if ours.status != PaymentStatus::Pending {
            if ours.status == PaymentStatus::Canceled && status == PaymentStatus::Succeeded {
                tracing::error!(
                    "the provider reports a card payment succeeded that was canceled here; \
                     check `milly payment list` and refund it"
                );
                return Ok(SyncOutcome::Mismatch);
            }
            return Ok(SyncOutcome::Unchanged);
        }
        // Only the API's word moves it: succeeded credits the plan exactly once in the store,
        // however many callers race.
        let settled = self
            .app
            .store()
            .settle_payment(ours.id, status, Some(&remote.id), now)
            .await;
        match settled {
            Ok(Settlement::Credited(subscription)) => {
                tracing::info!("card payment credited");
                if let Err(e) = self.remember_saved_method(ours, remote, now).await {
                    // The credit stands; only auto-renewal is not switched on.
                    tracing::error!(error = %e, "a saved payment method could not be recorded");
                }
                if let Some(user) = ours.user_id {
                    // Nobody listening is fine: the bot may be off.
                    let _ = self.paid.send(CardPaid {
                        payment: ours.id,
                        user,
                        plan: ours.plan.clone(),
                        subscription: subscription.clone(),
                    });
                }
                Ok(SyncOutcome::Credited(subscription))
            }
            Ok(Settlement::GiftPaid(code)) => {
                tracing::info!("card payment for a gift credited");
                if let Some(buyer) = ours.user_id {
                    let _ = self.gifts_paid.send(GiftPaid {
                        payment: ours.id,
                        buyer,
                        code,
                    });
                }
                Ok(SyncOutcome::GiftPaid)
            }
            Ok(Settlement::Marked) if status == PaymentStatus::Canceled => {
                tracing::info!("card payment canceled");
                if let Err(e) = self.after_renewal_canceled(ours, remote).await {
                    tracing::error!(error = %e, "a declined auto-renewal charge was not handled");
                }
                Ok(SyncOutcome::Canceled)
            }
            Ok(Settlement::Uncreditable) => self.refund_uncreditable(ours, remote, now).await,
            Ok(Settlement::Marked | Settlement::AlreadySettled) => Ok(SyncOutcome::Unchanged),
            // Another caller moved it between our read and our write.
            Err(StoreError::InvalidTransition { .. }) => Ok(SyncOutcome::Unchanged),
            Err(e) => Err(e.into()),
        }
    }
}
