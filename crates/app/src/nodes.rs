//! The nodes clients are told about, and the operator's remote nodes: registering one with a
//! one-time join token, its enrolment, switching it off or removing it, and what it reports.

use domain::{
    CertPin, ChainKey, JoinToken, Location, NodeKind, NodePrivateSettings, NodeRecord,
    NodeSecurity, NodeSpec, NodeStatus, JOIN_TOKEN_LIFETIME_MINUTES,
};
use store::NewRemoteNode;
use time::{Duration, OffsetDateTime};

pub use store::{ControlPlaneIdentity, Enrolment};

use crate::{App, AppError};

/// A node that has not reported for this long is shown offline (nodes report every few
/// seconds while connected).
pub const OFFLINE_AFTER: Duration = Duration::seconds(30);

/// A remote node to register: where clients reach it, what they are told and what it is told.
#[derive(Debug, Clone)]
pub struct RemoteNodePlan {
    pub name: String,
    pub location: Location,
    pub public_host: String,
    pub port: u16,
    pub security: NodeSecurity,
    pub private: NodePrivateSettings,
    /// The exit node of an entry → exit chain, by name.
    pub via: Option<String>,
}

/// A registered node and the join token that enrols it.
#[derive(Debug, Clone)]
pub struct Registered {
    pub node: NodeRecord,
    pub token: JoinToken,
    pub expires_at: OffsetDateTime,
}

/// A node's place in entry → exit chains, as the control plane tells the node.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeChain {
    /// For an entry: its exit (as clients are told about it) and the entry's key towards it.
    pub exit: Option<(NodeSpec, ChainKey)>,
    /// For an exit: the keys of the enabled entries that go through it.
    pub entry_keys: Vec<ChainKey>,
}

/// A node as the operator sees it.
#[derive(Debug, Clone)]
pub struct NodeOverview {
    pub record: NodeRecord,
    /// The exit node's name when this node is an entry.
    pub via_name: Option<String>,
    pub status: Option<NodeStatus>,
    /// Whether the node reported within [`OFFLINE_AFTER`]; the embedded node is online while
    /// `milly serve` runs, which this process cannot tell: `None`.
    pub online: Option<bool>,
}

impl NodeOverview {
    /// How many access revisions the node's table is behind `current` (the store's revision),
    /// as of its last report; `None` for the embedded node (fed in-process) and for a remote
    /// node that never reported.
    pub fn revision_lag(&self, current: i64) -> Option<u64> {
        self.online?;
        let applied = self.status.as_ref()?.applied_revision;
        Some(u64::try_from(current).unwrap_or(0).saturating_sub(applied))
    }
}

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

    /// Registers a remote node and makes its join token, valid for
    /// [`JOIN_TOKEN_LIFETIME_MINUTES`] and usable once.
    pub async fn add_remote_node(&self, plan: &RemoteNodePlan) -> Result<Registered, AppError> {
        let via = match &plan.via {
            None => None,
            Some(exit) => Some(self.exit_node(exit, &plan.name).await?),
        };
        let token = JoinToken::generate();
        let expires_at = token_expiry();
        let new = NewRemoteNode {
            name: &plan.name,
            location: &plan.location,
            public_host: &plan.public_host,
            port: plan.port,
            security: &plan.security,
            private: &plan.private,
            via,
            chain_key: via.map(|_| ChainKey::generate()),
        };
        let node = self
            .store()
            .add_remote_node(&new, &token.hash(), expires_at)
            .await?
            .ok_or_else(|| AppError::NodeNameTaken(plan.name.clone()))?;
        Ok(Registered {
            node,
            token,
            expires_at,
        })
    }

    /// A new join token for a remote node (the first expired, or the node moves to a new
    /// server): enrolling with it replaces the node's credential.
    pub async fn renew_join_token(&self, name: &str) -> Result<Registered, AppError> {
        let node = self.remote_node(name).await?;
        let token = JoinToken::generate();
        let expires_at = token_expiry();
        self.store()
            .add_join_token(node.spec.id, &token.hash(), expires_at)
            .await?;
        Ok(Registered {
            node,
            token,
            expires_at,
        })
    }

    /// Uses a join token presented by a node that made `credential`.
    pub async fn enrol_node(
        &self,
        token: &JoinToken,
        credential: &CertPin,
    ) -> Result<Enrolment, AppError> {
        Ok(self
            .store()
            .enrol_node(&token.hash(), credential, OffsetDateTime::now_utc())
            .await?)
    }

    /// The enrolled remote node that holds `credential`, with what it must be told.
    pub async fn authenticate_node(
        &self,
        credential: &CertPin,
    ) -> Result<Option<(NodeRecord, NodePrivateSettings)>, AppError> {
        Ok(self.store().node_by_credential(credential).await?)
    }

    /// Where `node` stands in chains: its exit if it is an entry, its entries' keys if it is
    /// an exit. Read again with the node's settings, so a changed exit (new keys, a new
    /// address) reaches its entries within a second.
    pub async fn node_chain(&self, node: &NodeRecord) -> Result<NodeChain, AppError> {
        let exit = match node.via {
            Some(_) => self.store().chain_exit(node.spec.id).await?,
            None => None,
        };
        Ok(NodeChain {
            exit,
            entry_keys: self.store().chain_keys_via(node.spec.id).await?,
        })
    }

    pub async fn record_node_status(
        &self,
        node: domain::NodeId,
        status: &NodeStatus,
    ) -> Result<(), AppError> {
        Ok(self.store().record_node_status(node, status).await?)
    }

    /// Every node with what it last reported, in the operator's order.
    pub async fn node_overview(&self) -> Result<Vec<NodeOverview>, AppError> {
        let records = self.store().node_records().await?;
        let statuses = self.store().node_statuses().await?;
        let now = OffsetDateTime::now_utc();
        let overview = records
            .iter()
            .map(|record| {
                let status = statuses
                    .iter()
                    .find(|(id, _)| *id == record.spec.id)
                    .map(|(_, status)| status.clone());
                let online = match record.kind {
                    NodeKind::Embedded => None,
                    NodeKind::Remote => Some(
                        status
                            .as_ref()
                            .is_some_and(|s| now - s.last_seen_at < OFFLINE_AFTER),
                    ),
                };
                let via_name = record.via.and_then(|via| {
                    records
                        .iter()
                        .find(|r| r.spec.id == via)
                        .map(|r| r.spec.name.clone())
                });
                NodeOverview {
                    record: record.clone(),
                    via_name,
                    status,
                    online,
                }
            })
            .collect();
        Ok(overview)
    }

    /// A remote node as registered, with the secrets it is told.
    pub async fn remote_node_settings(
        &self,
        name: &str,
    ) -> Result<(NodeRecord, NodePrivateSettings), AppError> {
        let (node, private) = self
            .store()
            .remote_node_settings(name)
            .await?
            .ok_or_else(|| AppError::NodeNotFound(name.to_owned()))?;
        Ok((node, private))
    }

    /// Replaces what clients are told about a remote node (`spec`: location, address,
    /// security's public half) and what it is told (`private`). A connected node gets its new
    /// settings within a second and serves with them; links and subscriptions show them at
    /// their next fetch.
    pub async fn update_remote_node(
        &self,
        name: &str,
        spec: &NodeSpec,
        private: &NodePrivateSettings,
    ) -> Result<(), AppError> {
        let matching = matches!(
            (&spec.security, private),
            (
                NodeSecurity::Reality(_),
                NodePrivateSettings::Reality { .. }
            ) | (NodeSecurity::Tls(_), NodePrivateSettings::Tls { .. })
        );
        if !matching {
            return Err(AppError::NodeSecurityMismatch(name.to_owned()));
        }
        if self.store().update_remote_node(name, spec, private).await? {
            Ok(())
        } else {
            Err(AppError::NodeNotFound(name.to_owned()))
        }
    }

    /// Makes the remote node `name` an entry through the exit `via`, with a fresh
    /// node-to-node key, or (`None`) a node that connects its users out itself. A node that is
    /// the exit of others cannot become an entry (one hop). Both nodes get their new settings
    /// within a second.
    pub async fn set_node_via(&self, name: &str, via: Option<&str>) -> Result<(), AppError> {
        let node = self.remote_node(name).await?;
        let (exit, key) = match via {
            None => (None, None),
            Some(exit) => {
                let entries = self.store().entries_via(node.spec.id).await?;
                if !entries.is_empty() {
                    return Err(AppError::NodeInUse {
                        exit: name.to_owned(),
                        entries,
                    });
                }
                let exit = self.exit_node(exit, name).await?;
                (Some(exit), Some(ChainKey::generate()))
            }
        };
        self.store().set_node_via(node.spec.id, exit, key).await?;
        Ok(())
    }

    /// Takes a node in or out of links and subscriptions.
    pub async fn set_node_enabled(&self, name: &str, enabled: bool) -> Result<(), AppError> {
        if self.store().set_node_enabled(name, enabled).await? {
            Ok(())
        } else {
            Err(AppError::NodeNotFound(name.to_owned()))
        }
    }

    /// Moves a node in the operator's order of links and subscriptions (smaller first).
    pub async fn set_node_position(&self, name: &str, position: i64) -> Result<(), AppError> {
        if self.store().set_node_position(name, position).await? {
            Ok(())
        } else {
            Err(AppError::NodeNotFound(name.to_owned()))
        }
    }

    /// Removes a remote node: its credential stops working at once. An exit node still used by
    /// an entry, and the embedded node (it is `milly serve`'s own), are refused.
    pub async fn remove_node(&self, name: &str) -> Result<(), AppError> {
        let node = self.remote_node(name).await?;
        let entries = self.store().entries_via(node.spec.id).await?;
        if !entries.is_empty() {
            return Err(AppError::NodeInUse {
                exit: name.to_owned(),
                entries,
            });
        }
        self.store().delete_node(name).await?;
        Ok(())
    }

    /// The identity nodes pin, made from `candidate` the first time any process asks.
    pub async fn control_plane_identity(
        &self,
        candidate: &ControlPlaneIdentity,
    ) -> Result<ControlPlaneIdentity, AppError> {
        Ok(self.store().control_plane_identity(candidate).await?)
    }

    async fn remote_node(&self, name: &str) -> Result<NodeRecord, AppError> {
        let node = self
            .store()
            .node_record(name)
            .await?
            .ok_or_else(|| AppError::NodeNotFound(name.to_owned()))?;
        if node.kind == NodeKind::Embedded {
            return Err(AppError::EmbeddedNode(name.to_owned()));
        }
        Ok(node)
    }

    /// The exit an entry called `entry` may go through: a remote REALITY node (the entry
    /// dials it with REALITY + Vision; the embedded node is fed in-process, not told of
    /// entries) that is not an entry itself (one hop: a chain of chains would hide where
    /// traffic leaves).
    async fn exit_node(&self, exit: &str, entry: &str) -> Result<domain::NodeId, AppError> {
        let node = self
            .store()
            .node_record(exit)
            .await?
            .ok_or_else(|| AppError::NodeNotFound(exit.to_owned()))?;
        let reality = matches!(node.spec.security, NodeSecurity::Reality(_));
        if node.via.is_some() || exit == entry || node.kind != NodeKind::Remote || !reality {
            return Err(AppError::NotAnExit(exit.to_owned()));
        }
        Ok(node.spec.id)
    }
}

fn token_expiry() -> OffsetDateTime {
    OffsetDateTime::now_utc() + Duration::minutes(JOIN_TOKEN_LIFETIME_MINUTES)
}
