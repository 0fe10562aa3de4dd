//! Card payments through YooKassa API v3, for roubles.
//!
//! - [`Billing::start_checkout`]: a pending payment is stored first, then created at YooKassa
//!   (`capture: true`, redirect confirmation back to `/pay/return?t=` with the payment's
//!   random return token, our id in `metadata`, a
//!   54-FZ receipt when `[yookassa] receipts`), then YooKassa's id is recorded.
//! - [`Billing::handle_notification`]: **the body is never trusted**. The sender must be in
//!   YooKassa's networks ([`SourcePolicy`]); the payment's status is fetched from the API and
//!   only that is acted on. Crediting happens in the store, exactly once per payment.
//! - [`run_reconciler`]: asks the API about pending payments that got no notification (lost
//!   webhooks, a crash before crediting), so after a restart nothing paid is lost.
//!   `refund.succeeded` notifications (refunds made here or in YooKassa's dashboard) are
//!   verified the same way, through `GET /v3/refunds/{id}` and the payment's `refunded_amount`.
//! - A card payment that succeeds after its payer erased their account is refunded at once
//!   and the admins are told ([`Billing::subscribe_erased_refunds`]).
//! - [`refund`]: YooKassa refunds, and Telegram Stars refunds through `refundStarPayment`.
//! - [`router`]: `POST /webhooks/yookassa`, `GET`/`POST /pay/checkout` (a page with a button;
//!   the POST pays, idempotent under double clicks), `GET /pay/return?t=RETURN_TOKEN`.
//!
//! **No card data is stored or logged**: the payment object we deserialize has no
//! `payment_method` field at all, and logs count outcomes, never ids of people or payments.
#![forbid(unsafe_code)]

mod amount;
mod checkout;
mod client;
mod erased_payer;
mod error;
mod notification;
mod pages;
mod rate_limit;
mod reconciler;
mod refund;
mod refund_sync;
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
pub use client_identity::{BadNetwork, Network};
pub use erased_payer::ErasedPayerRefund;
pub use error::BillingError;
pub use notification::NotificationOutcome;
pub use reconciler::{run_reconciler, ReconcileReport, DEFAULT_RECONCILE_INTERVAL};
pub use refund::{refund, RefundOutcome};
pub use refund_sync::RefundSync;
pub use router::{router, WEBHOOK_PATH};
pub use source::{yookassa_networks, SourcePolicy, YOOKASSA_NETWORKS};
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
    erased_refunds: broadcast::Sender<ErasedPayerRefund>,
}

impl Billing {
    /// Card payments for `app`, from its `[yookassa]` section; `NotConfigured` when off.
    pub fn new(app: App, source: SourcePolicy) -> Result<Billing, BillingError> {
        let yookassa = YooKassa::from_config(&app.config().yookassa)?;
        let (paid, _) = broadcast::channel(EVENT_BUFFER);
        let (erased_refunds, _) = broadcast::channel(EVENT_BUFFER);
        Ok(Billing {
            app,
            yookassa,
            source,
            paid,
            erased_refunds,
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

    /// Every card payment refunded from now on because it succeeded after its payer erased
    /// their account, once each: for telling the admins.
    pub fn subscribe_erased_refunds(&self) -> broadcast::Receiver<ErasedPayerRefund> {
        self.erased_refunds.subscribe()
    }
}
