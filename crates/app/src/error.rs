//! What can go wrong in a use case, in words an operator or user can act on.

use domain::SubscriptionError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("no user with that id")]
    UserNotFound,
    /// The caller knows which Telegram id it asked about; the error never carries it, so it
    /// can be logged or shown as it is.
    #[error("a user with this Telegram id already exists")]
    AlreadyExists,
    #[error(transparent)]
    Subscription(#[from] SubscriptionError),
    #[error("cannot build the export document: {0}")]
    Export(String),
    #[error(transparent)]
    Store(#[from] store::StoreError),
}
