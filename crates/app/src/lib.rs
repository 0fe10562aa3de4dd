//! Use cases shared by the CLI, the bot and the website: sign up, trial, payments, extend, block,
//! delete, export, support, the bot's bookkeeping and reminders, the subscription feed and the
//! reads behind the nodes' access feed. Every business rule lives here, and front ends go
//! through these for every read and every change: they never call the store themselves.

mod access_feed;
mod account_link;
mod admin_actions;
mod admin_panel;
mod admin_stats;
pub mod backup;
mod bot_state;
mod broadcasts;
mod card_payments;
mod error;
mod gifts;
mod leadership;
mod links;
mod node_alerts;
mod nodes;
mod payment_history;
pub mod privacy;
mod privacy_rights;
mod promo;
mod reachability;
mod referrals;
mod reminders;
mod settings;
mod signup;
mod stars;
mod stars_subscriptions;
mod sub_token;
mod support;
mod trial;
mod users;
mod visitors;
mod web_account;

pub use access_feed::{AccessChanges, AccessPages, AccessRow};
pub use account_link::{account_link_lifetime, AccountLink, ACCOUNT_LINK_PATH};
pub use admin_actions::{Dashboard, DASHBOARD_REVENUE_DAYS};
pub use admin_panel::{admin_session_idle, AdminLoginLink, AdminSession, ADMIN_LOGIN_PATH};
pub use admin_stats::{AdminStats, Revenue, UserCounts, REVENUE_PERIODS};
pub use bot_state::{Awaiting, UPDATE_MEMORY};
pub use broadcasts::BroadcastRecipient;
pub use card_payments::{
    return_url, run_auto_renewals, run_reconciler, AutoRenewalStatus, CardCheckout, CardOffer,
    CardPaid, CardPayments, CardRefusal, CheckoutChoices, CheckoutError, ErasedPayerRefund,
    GiftPaid, NotificationOutcome, PaymentError, ReconcileReport, RefundOutcome, RefundSync,
    RenewalNotice, RenewalNoticeKind, RenewalReport, SyncOutcome, AUTO_RENEWAL_LEAD,
    AUTO_RENEWAL_MAX_ATTEMPTS, AUTO_RENEWAL_RETRY_AFTER, CARD_CHECKOUT_PATH, CARD_RETURN_PATH,
    CHECKOUT_REUSE_WINDOW, GIFT_PARAM, RETURN_TOKEN_PARAM,
};
pub use error::AppError;
pub use gifts::Redeemed;
pub use leadership::LeaderLease;
pub use links::Links;
pub use node_alerts::{NodeAlert, NodeAlertKind, BEHIND_ALERT_AFTER, OFFLINE_ALERT_AFTER};
pub use nodes::{
    ControlPlaneIdentity, Enrolment, NodeChain, NodeOverview, Registered, RemoteNodePlan,
    OFFLINE_AFTER,
};
pub use privacy::PurgeReport;
pub use promo::{PromoEntry, PROMO_PLAN_ID};
pub use reachability::Audience;
pub use referrals::MyReferrals;
pub use reminders::{DueReminder, ReminderKind};
pub use settings::{AppSettings, BackupSettings, ReferralSettings};
pub use signup::TelegramProfile;
pub use stars::{CheckoutRefusal, StarsCredit, StarsPayload, STARS_CURRENCY};
pub use stars_subscriptions::{STARS_SUBSCRIPTION_DAYS, STARS_SUBSCRIPTION_PERIOD_SECS};
pub use store::{
    AuditEntry, AuditTarget, Backend, Broadcast, DailyRevenue, ReferralJoin, ReferralStats,
    StarsSubscription, TicketId, UserSummary,
};
pub use store::{NewPromo, PromoRedemption};
pub use sub_token::{MySubscription, SubscriptionFeed};
pub use support::{RelayPost, SupportMessageId, TicketOwner};
pub use trial::TrialResult;
pub use users::UserView;
pub use visitors::Visitor;
pub use web_account::{WebSession, WebSignIn, WEB_LOGIN_RETURN_PATH};

use std::sync::Arc;

use arc_swap::ArcSwap;

use store::Store;

/// The application: the store plus its settings, cheap to clone into every front end.
#[derive(Clone)]
pub struct App {
    store: Store,
    /// Swapped whole by [`App::reload_settings`] (SIGHUP): a use case reads one version.
    settings: Arc<ArcSwap<AppSettings>>,
}

impl App {
    pub fn new(store: Store, settings: AppSettings) -> Self {
        Self {
            store,
            settings: Arc::new(ArcSwap::from_pointee(settings)),
        }
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// The settings now; hold the returned value for the whole of a use case so that a reload
    /// midway cannot mix two versions.
    pub fn settings(&self) -> Arc<AppSettings> {
        self.settings.load_full()
    }

    /// Puts `settings` in place for every clone of this `App`, from the next use case on.
    pub fn reload_settings(&self, settings: AppSettings) {
        self.settings.store(Arc::new(settings));
    }

    /// Which database the store runs on (SQLite or PostgreSQL), for the start-up banner.
    pub fn database_backend(&self) -> Backend {
        self.store.backend()
    }

    /// The schema the database is at and the one this build expects; an error when the
    /// database does not answer (`/healthz`, `milly version`).
    pub async fn schema_version(&self) -> Result<store::SchemaVersion, AppError> {
        Ok(self.store.schema_version().await?)
    }

    /// Closes the database connections; call once, at shutdown, after every task ended.
    pub async fn close(&self) {
        self.store.close().await;
    }
}
