//! The payment providers' adapters, and nothing else: no business rules, no store, no HTTP
//! server (those are `app`'s and `web`'s).
//!
//! - [`provider`]: the provider-neutral words `app` uses ([`PaymentProvider`] for every
//!   provider, [`RedirectProvider`] for the ones the person is sent to). [`YooKassa`] and
//!   [`TelegramStars`] implement them; another provider is one more module here.
//! - [`YooKassa`]: a YooKassa API v3 client (create and read payments, create and read
//!   refunds) over the [`wire`] types, with amounts as integer kopecks ([`amount`]).
//! - [`SourcePolicy::receive`]: an incoming notification checked and parsed. **The body is
//!   never trusted**: the sender must be in YooKassa's networks, and only the event and the
//!   object's id are read, for the caller to look up through the API.
//! - [`telegram_stars`]: the Bot API's `refundStarPayment`, the other provider's one call that
//!   is not part of the bot's conversation ([`TelegramStars`]).
//!
//! **No card data is read**: the payment object has no `payment_method` field at all.
#![forbid(unsafe_code)]

pub mod amount;
mod client;
mod error;
mod notification;
pub mod provider;
mod source;
pub mod telegram_stars;
pub mod wire;
mod yookassa_provider;

/// Entry points for the fuzz target in `fuzz/` and its stable test; not an API.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::notification::body as notification_body;
}

pub use client::{YooKassa, YooKassaSettings, API_TIMEOUT};
pub use client_identity::{BadNetwork, IpNetwork};
pub use error::BillingError;
pub use notification::{Notice, Refused};
pub use provider::{PaymentProvider, RedirectProvider};
pub use source::{yookassa_networks, SourcePolicy, YOOKASSA_NETWORKS};
pub use telegram_stars::TelegramStars;
