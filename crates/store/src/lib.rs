//! Persistence for milly over sqlx: one code path for SQLite (default) and PostgreSQL. The only
//! crate with SQL. Instants are unix seconds, money integer minor units, ids and tokens text;
//! nothing about connections or traffic is stored.
#![forbid(unsafe_code)]

mod access;
mod connect;
mod credentials;
mod error;
mod export;
mod nodes;
mod payments;
mod subscriptions;
#[cfg(feature = "testing")]
pub mod testing;
mod users;

pub use access::{AccessChanges, AccessEntry, AccessSnapshot};
pub use connect::{Backend, Store};
pub use credentials::Credentials;
pub use error::StoreError;
pub use export::{
    ConsentExport, CredentialsExport, ProfileExport, UserExport, EXPORT_SCHEMA_VERSION,
};
pub use payments::{NewPayment, Settlement};
pub use subscriptions::TrialOutcome;
pub use users::{Stats, UserSummary};
