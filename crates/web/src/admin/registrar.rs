//! Adding a remote node from the panel. Making a node's keys and its join string needs what
//! only `milly` has (the node's defaults from milly.toml, where nodes dial), so `milly` hands
//! the website a [`NodeRegistrar`] when remote nodes are set up (`[control] listen`).

use std::future::Future;
use std::pin::Pin;

use domain::TelegramId;

/// What the panel's form asks for a new REALITY node.
#[derive(Debug, Clone)]
pub struct NewNode {
    pub name: String,
    /// `HOST:PORT` clients connect to.
    pub address: String,
    /// Shown to users; the name when empty.
    pub location: String,
}

/// A registered node's one-time join string, shown once.
#[derive(Clone)]
pub struct JoinOffer {
    pub join: String,
    pub valid_until: time::OffsetDateTime,
}

/// The join string is a secret: `{:?}` shows only when it expires.
impl std::fmt::Debug for JoinOffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinOffer")
            .field("valid_until", &self.valid_until)
            .finish_non_exhaustive()
    }
}

pub type RegistrarFuture<'a> = Pin<Box<dyn Future<Output = Result<JoinOffer, String>> + Send + 'a>>;

/// Registers a remote node on an admin's word (audited by `app`) and makes its join string.
/// The error is a sentence for the admin (a taken name, a bad address).
pub trait NodeRegistrar: Send + Sync {
    fn register(&self, admin: TelegramId, node: NewNode) -> RegistrarFuture<'_>;
}
