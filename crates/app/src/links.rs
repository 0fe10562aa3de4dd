//! The URLs a user imports into their apps: the subscription URL and one `vless://` per node.

use domain::{share_links, SubscriptionToken, VlessUuid};

use crate::{App, AppError};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Links {
    /// `{public_url}/sub/{token}`: apps import and refresh it by themselves.
    pub subscription_url: String,
    /// One `vless://` share link per enabled node, in the operator's order, named by its
    /// location (an entry's with its exit's).
    pub vless: Vec<String>,
}

impl App {
    pub fn subscription_url(&self, token: &SubscriptionToken) -> String {
        self.settings()
            .public_url
            .join_path(&format!("/sub/{}", token.as_str()))
    }

    pub async fn links(
        &self,
        uuid: &VlessUuid,
        token: &SubscriptionToken,
    ) -> Result<Links, AppError> {
        let nodes = self.store().list_nodes().await?;
        // A node without a public host cannot be linked; it is left out rather than failing all.
        let vless = share_links(&nodes, uuid);
        Ok(Links {
            subscription_url: self.subscription_url(token),
            vless,
        })
    }
}
