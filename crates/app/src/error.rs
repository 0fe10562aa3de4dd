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
    #[error("there is already a node called `{0}`")]
    NodeNameTaken(String),
    #[error("there is no node called `{0}`")]
    NodeNotFound(String),
    #[error("`{0}` is the embedded node of `milly serve`: change it in milly.toml")]
    EmbeddedNode(String),
    #[error("`{exit}` is the exit of {}: remove those first or point them elsewhere", entries.join(", "))]
    NodeInUse { exit: String, entries: Vec<String> },
    #[error("`{0}`: what clients are told and what the node is told name different securities")]
    NodeSecurityMismatch(String),
    #[error(
        "`{0}` cannot be an exit: an exit is a remote REALITY node that is not an entry itself"
    )]
    NotAnExit(String),
    #[error("a broadcast needs a text of 1 to 4096 characters")]
    BadBroadcast,
    #[error("there is no plan `{0}` in milly.toml's [[plans]]")]
    UnknownPlan(String),
    #[error("that Telegram account is not one of `[telegram] admins`")]
    NotAdmin,
    #[error(transparent)]
    Store(#[from] store::StoreError),
}
