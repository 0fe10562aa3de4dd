//! What can go wrong in a use case, in words an operator or user can act on.

use domain::{SubscriptionError, TelegramId};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("no user with that id")]
    UserNotFound,
    #[error("a user with Telegram id {0} already exists")]
    AlreadyExists(TelegramId),
    #[error(transparent)]
    Subscription(#[from] SubscriptionError),
    #[error("cannot build the export document: {0}")]
    Export(String),
    #[error(transparent)]
    Store(#[from] store::StoreError),
}
