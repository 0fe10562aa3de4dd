//! Persistence for milly over sqlx: one code path for SQLite (default) and PostgreSQL. The only
//! crate with SQL. Instants are unix seconds, money integer minor units, ids and tokens text;
//! nothing about connections or traffic is stored.
//!
//! - [`Store::connect`] takes `sqlite:PATH` / `sqlite://PATH` (file and directory created, WAL,
//!   foreign keys, `secure_delete`) or `postgres://...`, and runs the embedded migrations
//!   (`migrations/sqlite`, `migrations/postgres`).
//! - Lookups return `Result<Option<T>>`; a database error is never a "not found".
//! - Anything that reads and then writes runs in one transaction that takes the write lock
//!   first (`BEGIN IMMEDIATE` on SQLite, the access-revision row lock on PostgreSQL).
//! - Payments credit days exactly once: see [`payments`](Store::settle_payment).
//! - Nodes learn who may connect from [`Store::access_snapshot_pages`] (pages of one
//!   consistent read) and [`Store::access_changes_since`], never from the database.
//! - Referral rewards are granted in the transaction that credits the newcomer's first payment
//!   (one conditional update of `referrals.rewarded_at`); a gift is redeemed by one conditional
//!   update that clears its code (`referrals`, `gifts`).
//! - Erasure ([`Store::erase_user`]) deletes the person, their credentials and account links, keeps payments
//!   unlinked, and on SQLite checkpoints the WAL so the erased text is gone from the files.
//! - With feature `testing`, `testing::TestDb` and `backend_tests!` run tests on both
//!   backends.
#![forbid(unsafe_code)]

mod access;
mod account_links;
mod admin_panel;
mod admin_reads;
mod auto_renewals;
mod bot;
mod bot_stats;
mod bot_updates;
mod broadcasts;
mod card_payments;
mod connect;
mod control_plane;
mod credentials;
mod dump;
mod error;
mod export;
mod gifts;
mod leadership;
mod node_alerts;
mod nodes;
mod payments;
mod privacy_counts;
mod promo;
mod referrals;
mod remote_nodes;
mod schema_status;
mod schema_version;
mod stars_subscriptions;
mod subscriptions;
mod support;
#[cfg(feature = "testing")]
pub mod testing;
mod update_claims;
mod users;
mod web_sessions;

pub use access::{AccessChanges, AccessRow, AccessSnapshot, AccessSnapshotPages};
pub use admin_panel::{AuditEntry, AuditTarget};
pub use admin_reads::DailyRevenue;
pub use auto_renewals::{AutoRenewal, RenewalAttempt};
pub use broadcasts::Broadcast;
pub use card_payments::{CheckoutPayment, RefundMark};
pub use connect::{Backend, Store};
pub use control_plane::ControlPlaneIdentity;
pub use credentials::Credentials;
pub use dump::{RestoreError, StoreDump, TableDump, DUMP_FORMAT, TABLES};
pub use error::StoreError;
pub use export::{
    AccountLinkExport, AutoRenewalExport, ConsentExport, CredentialsExport, ProfileExport,
    StarsSubscriptionExport, UserExport, WebSessionExport, EXPORT_SCHEMA_VERSION,
};
pub use gifts::{GiftBought, GiftRedeemed, GiftRedemption};
pub use leadership::LeaderLease;
pub use node_alerts::{Behind, NodeAlertState, StoredAlertState};
pub use payments::{NewPayment, Settlement};
pub use promo::{DaysRedemption, NewPromo, PromoRedemption};
pub use referrals::{
    ReferralExport, ReferralJoin, ReferralOffer, ReferralRewarded, ReferralStats, ReferredExport,
};
pub use remote_nodes::{Enrolment, NewRemoteNode};
pub use schema_status::SchemaStatus;
pub use schema_version::{known_schema_version, SchemaVersion};
pub use stars_subscriptions::StarsSubscription;
pub use subscriptions::TrialOutcome;
pub use support::{SupportMessage, TicketId};
pub use update_claims::MAX_CLAIM_BATCH;
pub use users::{Stats, UserSummary};
