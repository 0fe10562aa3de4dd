//! Selling plans for roubles by card: every rule and every state change of a payment made on
//! a provider's page, written against `billing`'s [`RedirectProvider`] (YooKassa by default;
//! another such provider plugs in with [`CardPayments::with_provider`]).
//!
//! - [`offer`]: which plans are on sale, the checkout link, opening a pending payment (reusing
//!   one opened moments ago).
//! - [`CardPayments::start_checkout`]: the pending payment is stored first, then created at
//!   YooKassa (`capture: true`, a redirect back to [`CARD_RETURN_PATH`] with the payment's
//!   random return token, our id in `metadata`, a 54-FZ receipt when `[yookassa] receipts`),
//!   then YooKassa's id is recorded.
//! - [`CardPayments::sync_provider_payment`]: what YooKassa's API says about a payment, applied
//!   (amount mismatches and canceled→succeeded are refused; the store credits exactly once).
//! - [`CardPayments::handle_notice`]: a notification `billing` received; only the API is
//!   believed. `refund.succeeded` is verified the same way, through the refund and its
//!   payment's `refunded_amount`.
//! - A card payment that succeeds after its payer erased their account is refunded at once and
//!   the admins are told ([`CardPayments::subscribe_erased_refunds`]).
//! - Gifts: the checkout link's `gift=1` opens a gift's payment (marked in YooKassa's
//!   metadata); paying it makes a code ([`CardPayments::subscribe_gifts`]) instead of days.
//! - [`reconciler`]: asks about pending payments that got no notification.
//! - [`auto_renewal`]: opt-in auto-renewal, charging the saved payment method a day before the
//!   end (`CardPayments::renew_due`, run by [`run_auto_renewals`] on the leader).
//! - [`App::refund_payment`]: the operator's refunds, by card or Stars.
//!
//! **No card data is stored or logged**, and logs count outcomes, never ids of people or
//! payments.

mod auto_renewal;
mod checkout;
mod erased_payer;
mod error;
mod notification;
mod offer;
mod reconciler;
mod refund;
mod refund_sync;
mod return_page;
mod settle;

pub use auto_renewal::{
    run_auto_renewals, AutoRenewalStatus, RenewalNotice, RenewalNoticeKind, RenewalReport,
    AUTO_RENEWAL_LEAD, AUTO_RENEWAL_MAX_ATTEMPTS, AUTO_RENEWAL_RETRY_AFTER,
};
pub use checkout::{return_url, CheckoutChoices, RETURN_TOKEN_PARAM};
pub use erased_payer::ErasedPayerRefund;
pub use error::{CheckoutError, PaymentError};
pub use notification::NotificationOutcome;
pub use offer::{
    CardCheckout, CardOffer, CardRefusal, CARD_CHECKOUT_PATH, CHECKOUT_REUSE_WINDOW, GIFT_PARAM,
};
pub use reconciler::{run_reconciler, ReconcileReport};
pub use refund::RefundOutcome;
pub use refund_sync::RefundSync;
pub use settle::SyncOutcome;

use std::sync::Arc;

use billing::provider::Incoming;
use billing::{BillingError, Notice, RedirectProvider, Refused, YooKassa};
use domain::{GiftCode, PaymentId, PlanId, Provider, Subscription, UserId};
use tokio::sync::broadcast;

use crate::App;

/// The path of the page YooKassa sends the person back to (`?t=RETURN_TOKEN`); `web` serves
/// it, and [`return_url`] builds links to it.
pub const CARD_RETURN_PATH: &str = "/pay/return";

/// A card payment was credited: what the bot needs to send its confirmation message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardPaid {
    pub payment: PaymentId,
    pub user: UserId,
    pub plan: PlanId,
    pub subscription: Subscription,
}

/// A card payment for a gift was credited: the bot shows its code to the buyer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GiftPaid {
    pub payment: PaymentId,
    pub buyer: UserId,
    pub code: GiftCode,
}

/// How many events wait for a slow listener before the oldest are dropped.
const EVENT_BUFFER: usize = 256;

/// Card payments for one App: the use cases with the provider, and the events they raise.
/// Cheap to clone.
#[derive(Clone)]
pub struct CardPayments {
    app: App,
    provider: Arc<dyn RedirectProvider>,
    paid: broadcast::Sender<CardPaid>,
    erased_refunds: broadcast::Sender<ErasedPayerRefund>,
    gifts_paid: broadcast::Sender<GiftPaid>,
    renewal_notices: broadcast::Sender<RenewalNotice>,
}

impl CardPayments {
    /// Card payments for `app` through YooKassa, from its `[yookassa]` section (notifications
    /// taken from YooKassa's networks as the connection shows them); `NotConfigured` when off.
    pub fn new(app: App) -> Result<CardPayments, BillingError> {
        let yookassa = YooKassa::new(&app.settings().yookassa)?;
        Ok(Self::with_provider(app, Arc::new(yookassa)))
    }

    /// Card payments for `app` through `provider`.
    pub fn with_provider(app: App, provider: Arc<dyn RedirectProvider>) -> CardPayments {
        let (paid, _) = broadcast::channel(EVENT_BUFFER);
        let (erased_refunds, _) = broadcast::channel(EVENT_BUFFER);
        let (gifts_paid, _) = broadcast::channel(EVENT_BUFFER);
        let (renewal_notices, _) = broadcast::channel(EVENT_BUFFER);
        CardPayments {
            app,
            provider,
            paid,
            erased_refunds,
            gifts_paid,
            renewal_notices,
        }
    }

    pub fn app(&self) -> &App {
        &self.app
    }

    /// Which provider the payments are made with, as they are recorded.
    pub fn provider_kind(&self) -> Provider {
        self.provider.provider()
    }

    /// Whether `incoming` is a genuine notification from the provider, and what it names
    /// (then [`CardPayments::handle_notice`]).
    pub fn receive(&self, incoming: Incoming<'_>) -> Result<Notice, Refused> {
        self.provider.receive(incoming)
    }

    /// Every card payment credited from now on, by whichever path (webhook, reconciler,
    /// return page), once each.
    pub fn subscribe(&self) -> broadcast::Receiver<CardPaid> {
        self.paid.subscribe()
    }

    /// Every gift bought by card from now on, once each: for showing its code to the buyer.
    pub fn subscribe_gifts(&self) -> broadcast::Receiver<GiftPaid> {
        self.gifts_paid.subscribe()
    }

    /// Every card payment refunded from now on because it succeeded after its payer erased
    /// their account, once each: for telling the admins.
    pub fn subscribe_erased_refunds(&self) -> broadcast::Receiver<ErasedPayerRefund> {
        self.erased_refunds.subscribe()
    }
}
