//! The admin panel's "Add a remote node": the same registration as `milly node add` (a
//! REALITY node with fresh keys and the defaults of milly.toml), audited through `app`, and
//! its join string for the node's server.

use std::sync::Arc;

use app::App;
use domain::TelegramId;
use time::OffsetDateTime;
use web::{JoinOffer, NewNode, NodeRegistrar, RegistrarFuture};

use crate::cli::{NodeAddArgs, SecurityChoice};
use crate::commands::node;

/// Registers nodes for the panel; built only when nodes can dial in (`[control] listen`).
pub struct PanelNodes {
    app: App,
    /// Where nodes dial, as join strings carry it.
    address: String,
}

impl PanelNodes {
    pub fn for_config(app: App, config: &config::Config) -> Option<Arc<dyn NodeRegistrar>> {
        let address = node::control_address(config).ok()?;
        Some(Arc::new(PanelNodes { app, address }))
    }

    async fn add(&self, admin: TelegramId, new: NewNode) -> anyhow::Result<JoinOffer> {
        let args = NodeAddArgs {
            location: (!new.location.is_empty()).then_some(new.location),
            name: new.name,
            address: new.address,
            via: None,
            security: SecurityChoice::Reality,
            certificate: None,
            private_key: None,
            dest: None,
            server_name: None,
            transports: "tcp".to_owned(),
        };
        let plan = node::plan(&args)?;
        let registered = self
            .app
            .admin_add_remote_node(admin, &plan, OffsetDateTime::now_utc())
            .await?;
        let identity = control::ControlIdentity::load_or_create(&self.app).await?;
        let join = identity.join_string(&self.address, &registered.token)?;
        Ok(JoinOffer {
            join: join.to_string(),
            valid_until: registered.expires_at,
        })
    }
}

impl NodeRegistrar for PanelNodes {
    fn register(&self, admin: TelegramId, node: NewNode) -> RegistrarFuture<'_> {
        Box::pin(async move {
            self.add(admin, node).await.map_err(|err| {
                // What went wrong names the node or the address the admin typed, no one's data.
                tracing::warn!(error = %err, "the panel could not add a node");
                format!("{err:#}")
            })
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use domain::AdminAction;
    use store::testing::TestDb;

    fn config(listen: Option<&str>) -> config::Config {
        let mut config = config::Config::default();
        config.control.listen = listen.map(|l| l.parse().unwrap());
        config
    }

    #[tokio::test]
    async fn the_panel_registers_a_reality_node_with_a_join_string_and_an_audit_entry() {
        let db = TestDb::sqlite().await;
        let app = App::new(db.store.clone(), app::AppSettings::default());
        assert!(PanelNodes::for_config(app.clone(), &config(None)).is_none());
        let registrar = PanelNodes::for_config(app.clone(), &config(Some("0.0.0.0:7443"))).unwrap();
        let node = NewNode {
            name: "eu-2".into(),
            address: "node.example:443".into(),
            location: String::new(),
        };
        let offer = registrar
            .register(TelegramId(100), node.clone())
            .await
            .unwrap();
        let join: feed_wire::JoinString = offer.join.parse().unwrap();
        assert_eq!(join.address(), "127.0.0.1:7443");
        assert!(!format!("{offer:?}").contains(&offer.join));
        let nodes = app.node_overview().await.unwrap();
        let added = nodes.iter().find(|n| n.record.spec.name == "eu-2").unwrap();
        assert_eq!(added.record.spec.public_host, "node.example");
        assert_eq!(added.record.spec.location.to_string(), "eu-2");
        let audit = app.audit_entries(None, 10).await.unwrap();
        assert_eq!(audit[0].action, AdminAction::AddNode);
        assert_eq!(
            audit[0].target,
            Some(app::AuditTarget::Node(added.record.spec.id.0))
        );
        let taken = registrar.register(TelegramId(100), node).await.unwrap_err();
        assert!(taken.contains("eu-2"), "{taken}");
        let bad = NewNode {
            name: "eu-3".into(),
            address: "no-port".into(),
            location: String::new(),
        };
        assert!(registrar.register(TelegramId(100), bad).await.is_err());
        assert_eq!(app.audit_entries(None, 10).await.unwrap().len(), 1);
    }
}
