//! Leadership among the `milly serve` processes on one database: the jobs that must run once
//! run where this says so (see the store's `leadership`).

use crate::{App, AppError};

pub use store::LeaderLease;

impl App {
    /// Leadership if no other process holds it; `None` if one does. SQLite always leads.
    pub async fn try_lead(&self) -> Result<Option<LeaderLease>, AppError> {
        Ok(self.store().try_lead().await?)
    }
}
