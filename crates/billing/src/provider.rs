//! The provider-neutral words `app` uses with every payment provider, and the two shapes a
//! provider comes in:
//!
//! - [`PaymentProvider`]: what every provider does, however the person pays: give money back.
//!   Telegram Stars ([`crate::TelegramStars`]) is only this here: the rest of a Stars payment
//!   (invoice, pre-checkout, `successful_payment`) happens inside the bot's conversation.
//! - [`RedirectProvider`]: a provider the person leaves for and comes back from: create a
//!   payment, read it, hear about it by notification, refund it, and maybe charge a saved
//!   method again. YooKassa ([`crate::YooKassa`]) is one; a crypto payment service would be
//!   another, one module implementing this trait.
//!
//! Only ids, amounts and states cross this line: nothing of the card or wallet, and no
//! provider's JSON.

use std::net::IpAddr;

use async_trait::async_trait;
use domain::{Money, PaymentId, PaymentMethod, Provider, TelegramId};
use http::HeaderMap;

use crate::{BillingError, Notice, Refused};

/// A payment to open at the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRequest {
    /// Ours, kept in the provider's metadata so its payment leads back to our record.
    pub payment: PaymentId,
    pub amount: Money,
    /// What the person sees at the provider (the provider shortens it to its own limit).
    pub description: String,
    /// Bought for someone else (marked so at the provider, for the operator's dashboard).
    pub gift: bool,
    /// Where a fiscal receipt goes, when the operator issues them.
    pub receipt_email: Option<String>,
    pub pay_with: PayWith,
}

/// How the person pays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayWith {
    /// On the provider's page, coming back to `return_url`.
    Page {
        return_url: String,
        /// The one way to pay the page offers; `None` for every way the shop has.
        method: Option<PaymentMethod>,
        /// Ask the provider to keep the method for later charges (auto-renewal, opt-in).
        save_method: bool,
    },
    /// A method saved at an earlier payment, charged without asking the person again.
    Saved(SavedMethod),
}

/// A payment method the provider saved for later charges: an id that charges the person with
/// the shop's credentials, so `{:?}` leaves it out.
#[derive(Clone, PartialEq, Eq)]
pub struct SavedMethod(String);

impl SavedMethod {
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SavedMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SavedMethod(..)")
    }
}

/// A payment as its provider reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemotePayment {
    /// The provider's id of the payment.
    pub id: String,
    pub state: RemoteState,
    /// What is being paid; `None` when the provider says it in a form we cannot read.
    pub amount: Option<Money>,
    /// Where the person pays, while they still can.
    pub pay_url: Option<String>,
    /// Ours, from the metadata we set at creation.
    pub our_payment: Option<PaymentId>,
    /// Saved for later charges at the person's request.
    pub saved_method: Option<SavedMethod>,
    pub refunded: Refunded,
}

/// Where a payment stands at its provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteState {
    /// Not decided yet (waiting for the person, or for the provider).
    Pending,
    /// The money is taken.
    Succeeded,
    /// It will never be paid. `permission_revoked`: the person withdrew a saved method's
    /// permission, so charging it again cannot work.
    Canceled { permission_revoked: bool },
}

/// How much of a payment its refunds have given back so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refunded {
    Nothing,
    /// The running total of every refund.
    Total(Money),
    /// Said in a form we cannot read.
    Unreadable,
}

/// A refund as its provider reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteRefund {
    /// The provider's id of the refund, where it gives refunds one.
    pub id: Option<String>,
    pub state: RefundState,
    /// The provider's id of the payment it gives back.
    pub payment_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundState {
    Pending,
    Succeeded,
    Canceled,
}

impl RefundState {
    pub fn code(self) -> &'static str {
        match self {
            RefundState::Pending => "pending",
            RefundState::Succeeded => "succeeded",
            RefundState::Canceled => "canceled",
        }
    }
}

/// A paid payment to give money back from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaidCharge<'a> {
    /// The provider's id of the payment.
    pub provider_payment_id: &'a str,
    /// What it took.
    pub paid: Money,
    /// Who paid, for providers that refund to a Telegram account.
    pub payer: Option<TelegramId>,
}

/// A notification as it arrived at our webhook: the provider decides whether it is genuine.
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    /// The TCP peer (a trusted proxy's header may name the real sender).
    pub peer: IpAddr,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// What every payment provider does.
#[async_trait]
pub trait PaymentProvider: Send + Sync + 'static {
    /// Which provider this is, as payments record it.
    fn provider(&self) -> Provider;

    /// Gives back `amount` of `charge`. `key` is the same for everyone asking about the same
    /// state, so a retry or a race gets the first refund back instead of a second one (where
    /// the provider keeps such keys).
    async fn refund(
        &self,
        charge: PaidCharge<'_>,
        amount: Money,
        key: &str,
    ) -> Result<RemoteRefund, BillingError>;
}

/// A provider the person is sent to, whose payments are created, read and heard about here.
#[async_trait]
pub trait RedirectProvider: PaymentProvider {
    /// Opens `request` at the provider. `key` is one per local payment (or per renewal
    /// attempt): asking again with the same key and request returns the same payment.
    async fn create(
        &self,
        request: &PaymentRequest,
        key: &str,
    ) -> Result<RemotePayment, BillingError>;

    /// The provider's payment `id`; `None` when it knows no such payment.
    async fn payment(&self, id: &str) -> Result<Option<RemotePayment>, BillingError>;

    /// The provider's refund `id`; `None` when it knows no such refund.
    async fn refund_status(&self, id: &str) -> Result<Option<RemoteRefund>, BillingError>;

    /// Decides whether `incoming` is a genuine notification and what it names. Nothing in it
    /// is believed beyond the name: the caller asks [`RedirectProvider::payment`] (or
    /// [`RedirectProvider::refund_status`]).
    fn receive(&self, incoming: Incoming<'_>) -> Result<Notice, Refused>;
}
