//! Card payments through YooKassa API v3, for roubles.
//!
//! - [`Billing::start_checkout`]: a pending payment is stored first, then created at YooKassa
//!   (`capture: true`, redirect confirmation back to `/pay/return`, our id in `metadata`, a
//!   54-FZ receipt when `[yookassa] receipts`), then YooKassa's id is recorded.
//! - [`Billing::handle_notification`]: **the body is never trusted**. The sender must be in
//!   YooKassa's networks ([`SourcePolicy`]); the payment's status is fetched from the API and
//!   only that is acted on. Crediting happens in the store, exactly once per payment.
//! - [`run_reconciler`]: asks the API about pending payments that got no notification (lost
//!   webhooks, a crash before crediting), so after a restart nothing paid is lost.
//! - [`refund`]: YooKassa refunds, and Telegram Stars refunds through `refundStarPayment`.
//! - [`router`]: `POST /webhooks/yookassa`, `GET /pay/checkout`, `GET /pay/return`.
//!
//! **No card data is stored or logged**: the payment object we deserialize has no
//! `payment_method` field at all, and logs count outcomes, never ids of people or payments.
#![forbid(unsafe_code)]

mod amount;
mod checkout;
mod client;
mod error;
mod notification;
mod pages;
mod rate_limit;
mod reconciler;
mod refund;
mod router;
mod source;
mod sync;
mod wire;

/// Entry points for the fuzz target in `fuzz/` and its stable test; not an API.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::notification::body as notification_body;
}

pub use checkout::CheckoutError;
pub use client::{YooKassa, API_TIMEOUT};
pub use error::BillingError;
pub use notification::NotificationOutcome;
pub use reconciler::{run_reconciler, ReconcileReport, DEFAULT_RECONCILE_INTERVAL};
pub use refund::{refund, RefundOutcome};
pub use router::{router, WEBHOOK_PATH};
pub use source::{yookassa_networks, BadNetwork, Network, SourcePolicy, YOOKASSA_NETWORKS};
pub use sync::SyncOutcome;

use app::App;
use domain::{PaymentId, PlanId, Subscription, UserId};
use tokio::sync::broadcast;

/// A card payment was credited: what the bot needs to send its confirmation message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardPaid {
    pub payment: PaymentId,
    pub user: UserId,
    pub plan: PlanId,
    pub subscription: Subscription,
}

/// How many credited-payment events wait for a slow listener before the oldest are dropped.
const EVENT_BUFFER: usize = 256;

/// Card payments for one App: the use cases, the YooKassa client and the webhook's source
/// policy. Cheap to clone.
#[derive(Clone)]
pub struct Billing {
    app: App,
    yookassa: YooKassa,
    source: SourcePolicy,
    paid: broadcast::Sender<CardPaid>,
}

impl Billing {
    /// Card payments for `app`, from its `[yookassa]` section; `NotConfigured` when off.
    pub fn new(app: App, source: SourcePolicy) -> Result<Billing, BillingError> {
        let yookassa = YooKassa::from_config(&app.config().yookassa)?;
        let (paid, _) = broadcast::channel(EVENT_BUFFER);
        Ok(Billing {
            app,
            yookassa,
            source,
            paid,
        })
    }

    pub fn app(&self) -> &App {
        &self.app
    }

    /// Every card payment credited from now on, by whichever path (webhook, reconciler,
    /// return page), once each.
    pub fn subscribe(&self) -> broadcast::Receiver<CardPaid> {
        self.paid.subscribe()
    }
}
