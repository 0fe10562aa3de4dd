//! Use cases shared by the CLI, the bot and the website: sign up, extend, block, delete, export,
//! and the links a user imports into their apps. Front ends call these, never the store directly
//! for anything that changes state.

mod account_link;
pub mod backup;
mod card_payments;
mod error;
mod links;
pub mod privacy;
mod privacy_rights;
mod signup;
mod stars;
mod support;
mod trial;
mod users;

pub use account_link::{account_link_lifetime, AccountLink, ACCOUNT_LINK_PATH};
pub use card_payments::{
    return_url, run_reconciler, CardCheckout, CardPaid, CardPayments, CardRefusal, CheckoutError,
    ErasedPayerRefund, NotificationOutcome, PaymentError, ReconcileReport, RefundOutcome,
    RefundSync, SyncOutcome, CARD_CHECKOUT_PATH, CARD_RETURN_PATH, CHECKOUT_REUSE_WINDOW,
    DEFAULT_RECONCILE_INTERVAL, RETURN_TOKEN_PARAM,
};
pub use error::AppError;
pub use links::Links;
pub use privacy::PurgeReport;
pub use signup::TelegramProfile;
pub use stars::{CheckoutRefusal, StarsCredit, StarsPayload, STARS_CURRENCY};
pub use support::TicketOwner;
pub use trial::TrialResult;
pub use users::UserView;

use std::sync::Arc;

use config::Config;
use store::Store;

/// The application: the store plus the configuration, cheap to clone into every front end.
#[derive(Clone)]
pub struct App {
    store: Store,
    config: Arc<Config>,
}

impl App {
    pub fn new(store: Store, config: Arc<Config>) -> Self {
        Self { store, config }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn config(&self) -> &Config {
        &self.config
    }
}
