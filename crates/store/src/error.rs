//! What can go wrong in the store, in words an operator can act on. No message carries personal
//! data or a database password.

use domain::{PaymentStatus, SubscriptionError};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL cannot be used; `url` is already masked.
    #[error("invalid database URL `{url}`: {reason}")]
    InvalidUrl { url: String, reason: String },
    /// The database could not be opened or reached; `url` is already masked.
    #[error("cannot open the database at `{url}`: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("cannot bring the database schema up to date: {0}")]
    Migrate(String),
    #[error("database error: {0}")]
    Database(String),
    /// A stored value does not decode into the domain type it should hold.
    #[error("the database holds an unreadable value in `{0}`")]
    Corrupt(&'static str),
    /// A column is missing or of an unexpected type: the schema is not the one this build
    /// expects.
    #[error("the database column `{0}` is missing or of an unexpected type")]
    UnreadableColumn(String),
    #[error("no such user")]
    UserNotFound,
    #[error("no such payment")]
    PaymentNotFound,
    #[error("a user with this Telegram id already exists")]
    TelegramIdTaken,
    #[error("this provider payment id is already recorded")]
    ProviderPaymentIdTaken,
    /// More update ids than one `claim_updates` call takes.
    #[error("too many update ids to claim at once (the bound is {0})")]
    TooManyUpdateIds(usize),
    #[error("a promo code with this name already exists")]
    PromoCodeTaken,
    #[error("a payment reported as paid needs the provider's payment id")]
    MissingProviderPaymentId,
    #[error("a payment cannot go from {from:?} to {to:?}")]
    InvalidTransition {
        from: PaymentStatus,
        to: PaymentStatus,
    },
    #[error(transparent)]
    Subscription(#[from] SubscriptionError),
}

impl StoreError {
    /// Whether this is a uniqueness violation reported by the database.
    pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
        matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
    }
}

/// A foreign-key violation on a write that names a user: that user does not exist (any more).
pub(crate) fn missing_user(err: sqlx::Error) -> StoreError {
    missing_user_or(err, StoreError::from)
}

/// As [`missing_user`], with any other error turned into a `StoreError` by `other`.
pub(crate) fn missing_user_or(
    err: sqlx::Error,
    other: fn(sqlx::Error) -> StoreError,
) -> StoreError {
    match err {
        sqlx::Error::Database(ref db) if db.is_foreign_key_violation() => StoreError::UserNotFound,
        err => other(err),
    }
}

/// Database errors keep only sqlx's message: constraint names and reasons, never bound values.
impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match err {
            // The decoding error's own text may quote the value; name only the column.
            sqlx::Error::ColumnDecode { index, .. } => StoreError::UnreadableColumn(index),
            sqlx::Error::ColumnNotFound(name) => StoreError::UnreadableColumn(name),
            other => StoreError::Database(other.to_string()),
        }
    }
}
