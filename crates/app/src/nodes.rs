//! The nodes clients are told about: every front end prints links to the nodes recorded here.

use domain::{Location, NodeSecurity, NodeSpec};

use crate::{App, AppError};

impl App {
    /// Records the node called `name`, or replaces what was known about it.
    pub async fn register_node(
        &self,
        name: &str,
        location: &Location,
        public_host: &str,
        port: u16,
        security: &NodeSecurity,
    ) -> Result<NodeSpec, AppError> {
        Ok(self
            .store()
            .upsert_node(name, location, public_host, port, security)
            .await?)
    }
}
