//! One node's connection, after the TLS handshake. The first message decides what it is:
//! `Join` (enrolment with a one-time token: the certificate presented becomes the node's
//! credential) or `Hello` (a feed: settings, then a snapshot or the changes since the node's
//! revision, then every change as it happens, pings both ways and the node's reports). A feed
//! ends when the node's credential stops being valid, checked every [`RECHECK`].

use std::time::Duration;

use app::{AccessRow, App, Enrolment, NodeChain};
use domain::{
    CertPin, NodeId, NodePrivateSettings, NodeRecord, NodeSecurity, NodeStatus, NodeTransport,
};
use feed_wire::{
    HttpSettings, NodeSettings, Parse, Refusal, Resume, SecuritySettings, ToControl, ToNode,
    Upstream, WireEntry, MAX_CHUNK_ENTRIES, PING_INTERVAL, PROTOCOL_VERSION, SILENCE_LIMIT,
};
use time::OffsetDateTime;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::{ControlError, ControlIdentity, FeedHub};

/// How long a node has to say what it wants after the handshake.
pub const FIRST_MESSAGE_DEADLINE: Duration = Duration::from_secs(10);
/// How often a connected node's credential and settings are read again: a removed node is cut
/// off within this, and changed settings reach it within this.
pub const RECHECK: Duration = Duration::from_secs(1);
/// Longest a snapshot may take to stream: it holds a read transaction and a pooled database
/// connection, which a node reading too slowly must not keep forever (it loses the link and
/// asks again).
pub const SNAPSHOT_DEADLINE: Duration = Duration::from_secs(300);

/// What every session of this process shares.
#[derive(Clone)]
pub struct SessionContext {
    pub app: App,
    pub hub: FeedHub,
    pub identity: ControlIdentity,
}

/// Frames in, frames out, over one TLS stream.
struct Link<S> {
    stream: S,
    inbox: Vec<u8>,
    outbox: Vec<u8>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Link<S> {
    async fn send(&mut self, message: &ToNode) -> Result<(), ControlError> {
        self.outbox.clear();
        message.encode(&mut self.outbox)?;
        self.stream.write_all(&self.outbox).await?;
        Ok(())
    }

    /// The next message, or `None` when the node closed the connection. Cancel-safe: bytes
    /// read stay in `inbox`.
    async fn receive(&mut self) -> Result<Option<ToControl>, ControlError> {
        loop {
            if let Parse::Done { value, consumed } = ToControl::decode(&self.inbox)? {
                self.inbox.drain(..consumed);
                return Ok(Some(value));
            }
            if self.stream.read_buf(&mut self.inbox).await? == 0 {
                return Ok(None);
            }
        }
    }
}

/// Serves one node connection until it ends, the node is removed, or `shutdown`.
pub async fn run<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    peer: CertPin,
    ctx: &SessionContext,
    shutdown: CancellationToken,
) -> Result<(), ControlError> {
    let mut link = Link {
        stream,
        inbox: Vec::new(),
        outbox: Vec::new(),
    };
    let first = tokio::time::timeout(FIRST_MESSAGE_DEADLINE, link.receive())
        .await
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
    match first {
        None => Ok(()),
        Some(ToControl::Join {
            protocol_version,
            token,
        }) => {
            let answer = if protocol_version != PROTOCOL_VERSION {
                refused(Refusal::Unsupported)
            } else {
                match ctx.app.enrol_node(&token, &peer).await? {
                    Enrolment::Enrolled(node) => {
                        tracing::info!(node = %node.spec.name, "node enrolled");
                        ToNode::Joined {
                            node_name: node.spec.name,
                        }
                    }
                    Enrolment::Unknown => refused(Refusal::UnknownToken),
                    Enrolment::AlreadyUsed => refused(Refusal::TokenUsed),
                    Enrolment::Expired => refused(Refusal::TokenExpired),
                }
            };
            link.send(&answer).await?;
            link.stream.shutdown().await?;
            Ok(())
        }
        Some(ToControl::Hello {
            protocol_version,
            software_version,
            resume,
        }) => {
            if protocol_version != PROTOCOL_VERSION {
                link.send(&refused(Refusal::Unsupported)).await?;
                return Ok(());
            }
            let Some((node, private)) = ctx.app.authenticate_node(&peer).await? else {
                link.send(&refused(Refusal::UnknownNode)).await?;
                return Ok(());
            };
            let feed = Feed {
                ctx,
                peer,
                node: node.spec.id,
                software_version,
            };
            feed.run(&mut link, &node, &private, resume, shutdown).await
        }
        // Anything else first is not a node of ours speaking this protocol.
        Some(_) => Ok(()),
    }
}

fn refused(reason: Refusal) -> ToNode {
    ToNode::Refused { reason }
}

struct Feed<'a> {
    ctx: &'a SessionContext,
    peer: CertPin,
    node: NodeId,
    software_version: String,
}

impl Feed<'_> {
    async fn run<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        link: &mut Link<S>,
        node: &NodeRecord,
        private: &NodePrivateSettings,
        resume: Option<Resume>,
        shutdown: CancellationToken,
    ) -> Result<(), ControlError> {
        let chain = self.ctx.app.node_chain(node).await?;
        let mut settings = node_settings(node, private, &chain)?;
        link.send(&ToNode::Settings(Box::new(settings.clone())))
            .await?;
        let mut revisions = self.ctx.hub.subscribe();
        let resume_from = resume
            .filter(|r| r.epoch == self.ctx.identity.epoch)
            .and_then(|r| i64::try_from(r.revision).ok());
        let first = self.catch_up(link, resume_from).await?;
        let mut sent = first.revision;
        if first.snapshot {
            tracing::info!(node = %node.spec.name, revision = sent, "node feed: a node took a snapshot");
        } else {
            tracing::info!(node = %node.spec.name, revision = sent, "node feed: a node resumed from its revision");
        }
        let mut applied = resume_from.unwrap_or(0);
        let mut counters = Counters::default();
        self.report(applied, counters).await;

        let mut last_heard = Instant::now();
        let mut ping = tokio::time::interval(PING_INTERVAL);
        let mut recheck = tokio::time::interval(RECHECK);
        let mut nonce = 0u64;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                changed = revisions.changed() => {
                    if changed.is_err() {
                        return Ok(()); // the hub stopped: this process is shutting down
                    }
                    sent = self.catch_up(link, Some(sent)).await?.revision;
                }
                message = link.receive() => {
                    last_heard = Instant::now();
                    match message? {
                        None => return Ok(()),
                        // Every answer refreshes what the operator sees: the revision the
                        // node holds, the last counters it sent, and that it is alive.
                        Some(ToControl::Applied { revision }) => {
                            applied = i64::try_from(revision).unwrap_or(i64::MAX);
                            self.report(applied, counters).await;
                        }
                        Some(ToControl::Stats { connections, bytes_up, bytes_down }) => {
                            counters = Counters { connections, bytes_up, bytes_down };
                            self.report(applied, counters).await;
                        }
                        Some(ToControl::Pong { .. }) => self.report(applied, counters).await,
                        // Join and Hello belong at the start of a connection only.
                        Some(ToControl::Join { .. } | ToControl::Hello { .. }) => return Ok(()),
                    }
                }
                _ = ping.tick() => {
                    if last_heard.elapsed() > SILENCE_LIMIT {
                        return Ok(());
                    }
                    nonce = nonce.wrapping_add(1);
                    link.send(&ToNode::Ping { nonce }).await?;
                }
                _ = recheck.tick() => {
                    let Some((node, private)) = self.ctx.app.authenticate_node(&self.peer).await? else {
                        tracing::info!("node feed: a removed node's connection is closed");
                        link.send(&refused(Refusal::UnknownNode)).await?;
                        return Ok(());
                    };
                    let chain = self.ctx.app.node_chain(&node).await?;
                    let current = node_settings(&node, &private, &chain)?;
                    if current != settings {
                        link.send(&ToNode::Settings(Box::new(current.clone()))).await?;
                        settings = current;
                    }
                }
            }
        }
    }

    /// Brings the node from `from` (its revision, if it can resume) to now: the changes since
    /// then when the store can tell them and they fit in one message, a snapshot otherwise.
    async fn catch_up<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        link: &mut Link<S>,
        from: Option<i64>,
    ) -> Result<CaughtUp, ControlError> {
        if let Some(from) = from {
            if let Some(changes) = self.ctx.hub.changes_since(&self.ctx.app, from).await? {
                if changes.revision <= from {
                    return Ok(CaughtUp {
                        revision: from,
                        snapshot: false,
                    });
                }
                if changes.upserts.len() + changes.revoked.len() <= MAX_CHUNK_ENTRIES {
                    link.send(&ToNode::Changes {
                        revision: revision_u64(changes.revision),
                        upserts: changes.upserts.iter().map(wire_entry).collect(),
                        revoked: changes.revoked.iter().map(|u| *u.as_bytes()).collect(),
                    })
                    .await?;
                    return Ok(CaughtUp {
                        revision: changes.revision,
                        snapshot: false,
                    });
                }
            }
        }
        let streamed = tokio::time::timeout(SNAPSHOT_DEADLINE, self.send_snapshot(link)).await;
        let revision =
            streamed.map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
        Ok(CaughtUp {
            revision,
            snapshot: true,
        })
    }

    /// Streams the whole table at one revision, read from the store a chunk at a time, so the
    /// control plane holds a chunk or two however many users there are. Returns the revision.
    async fn send_snapshot<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        link: &mut Link<S>,
    ) -> Result<i64, ControlError> {
        let _slot = self.ctx.hub.snapshot_slot().await;
        let mut pages = self.ctx.app.access_snapshot_pages().await?;
        link.send(&ToNode::SnapshotBegin {
            epoch: self.ctx.identity.epoch,
            revision: revision_u64(pages.revision()),
            total: pages.total(),
        })
        .await?;
        let mut page = pages.next_page(MAX_CHUNK_ENTRIES).await?;
        while !page.is_empty() {
            let chunk = ToNode::SnapshotChunk {
                entries: page.iter().map(wire_entry).collect(),
            };
            // The next page is read while this one is on its way: two pages in memory at most.
            let (sent, next) = tokio::join!(link.send(&chunk), pages.next_page(MAX_CHUNK_ENTRIES));
            sent?;
            page = next?;
        }
        link.send(&ToNode::SnapshotEnd).await?;
        Ok(pages.revision())
    }

    async fn report(&self, applied: i64, counters: Counters) {
        let status = NodeStatus {
            software_version: self.software_version.clone(),
            applied_revision: u64::try_from(applied).unwrap_or(0),
            connections: counters.connections,
            bytes_up: counters.bytes_up,
            bytes_down: counters.bytes_down,
            last_seen_at: OffsetDateTime::now_utc(),
        };
        if let Err(e) = self.ctx.app.record_node_status(self.node, &status).await {
            tracing::warn!(error = %e, "node feed: cannot record a node's report");
        }
    }
}

/// Where a catch-up left the node, and whether it took a whole snapshot to get there.
#[derive(Debug, Clone, Copy)]
struct CaughtUp {
    revision: i64,
    snapshot: bool,
}

#[derive(Debug, Default, Clone, Copy)]
struct Counters {
    connections: u64,
    bytes_up: u64,
    bytes_down: u64,
}

fn revision_u64(revision: i64) -> u64 {
    u64::try_from(revision).unwrap_or(0)
}

fn wire_entry(row: &AccessRow) -> WireEntry {
    WireEntry {
        key: *row.vless_uuid.as_bytes(),
        expires_at: row.expires_at.unix_timestamp(),
    }
}

/// What the node is told: its port and the secrets of its security, as stored, and its place
/// in chains: an entry gets its exit's public address and REALITY public half (read from the
/// exit each time, so `keys=rotate` or a new address on the exit reaches the entry within a
/// [`RECHECK`]) with its own key; an exit gets its entries' keys.
fn node_settings(
    node: &NodeRecord,
    private: &NodePrivateSettings,
    chain: &NodeChain,
) -> Result<NodeSettings, ControlError> {
    let security = match private {
        NodePrivateSettings::Reality {
            private_key,
            short_ids,
            dest,
            server_names,
            max_time_diff_ms,
        } => SecuritySettings::Reality {
            private_key: decode_key(private_key)?,
            short_ids: short_ids.clone(),
            dest: dest.clone(),
            server_names: server_names.clone(),
            max_time_diff_ms: *max_time_diff_ms,
            mldsa65_seed: None,
        },
        NodePrivateSettings::Tls {
            certificate_pem,
            private_key_pem,
        } => SecuritySettings::Tls {
            certificate_pem: certificate_pem.clone(),
            private_key_pem: private_key_pem.clone(),
        },
    };
    let upstream = match &chain.exit {
        None if node.via.is_some() => {
            return Err(ControlError::Settings("an entry node's exit is gone"))
        }
        None => None,
        Some((exit, key)) => {
            // An entry must never connect users out itself, so an exit it cannot dial is an
            // error, not an entry without an upstream.
            let NodeSecurity::Reality(reality) = &exit.security else {
                return Err(ControlError::Settings("an exit node is not a REALITY node"));
            };
            Some(Box::new(Upstream {
                host: exit.public_host.clone(),
                port: exit.port,
                public_key: decode_key(&reality.public_key)?,
                short_id: reality.short_id.clone(),
                server_name: reality.server_name.clone(),
                key: key.0,
            }))
        }
    };
    Ok(NodeSettings {
        port: node.spec.port,
        security,
        upstream,
        peer_keys: chain.entry_keys.iter().map(|key| key.0).collect(),
        http: http_settings(&node.spec),
    })
}

/// The HTTP transports a node serves, at the paths its users' links carry (kept with the
/// node's public settings, as `milly node add` made them; over REALITY only XHTTP and gRPC,
/// as `NodeSpec::transports` lists them).
fn http_settings(spec: &domain::NodeSpec) -> HttpSettings {
    let mut http = HttpSettings::default();
    for transport in spec.transports() {
        match transport {
            NodeTransport::Tcp => {}
            NodeTransport::Ws { path } => http.ws_path = Some(path),
            NodeTransport::Httpupgrade { path } => http.httpupgrade_path = Some(path),
            NodeTransport::Xhttp { path } => http.xhttp_path = Some(path),
            NodeTransport::Grpc { service_name } => http.grpc_service_name = Some(service_name),
        }
    }
    http
}

/// An X25519 key as `milly keygen` prints it: 32 bytes of unpadded base64url (the private
/// key the node is told, and the public key of an entry's exit).
fn decode_key(text: &str) -> Result<[u8; 32], ControlError> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(ControlError::Settings(
            "a REALITY key is not 32 bytes of base64url",
        ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use domain::{ChainKey, Location, NodeKind, NodeSpec, RealityParams, TlsParams};

    use super::*;

    const PUBLIC_KEY: &str = "Z84J2IelR9ch3k8VtlVhhs5ycBUlXA7wHBWcBrjqnAw";

    fn record(id: i64, security: NodeSecurity, via: Option<NodeId>) -> NodeRecord {
        NodeRecord {
            spec: NodeSpec {
                id: NodeId(id),
                name: format!("node-{id}"),
                location: Location("🇩🇪 Frankfurt".into()),
                public_host: format!("node-{id}.example.com"),
                port: 8443,
                security,
                exits_via: None,
            },
            kind: NodeKind::Remote,
            enabled: true,
            position: id,
            via,
            credential: None,
        }
    }

    fn reality() -> NodeSecurity {
        NodeSecurity::Reality(RealityParams {
            public_key: PUBLIC_KEY.into(),
            short_id: "6ba85179e30d4fc2".into(),
            server_name: "www.example.org".into(),
            mldsa65_verify: None,
            transports: Vec::new(),
        })
    }

    fn tls_private() -> NodePrivateSettings {
        NodePrivateSettings::Tls {
            certificate_pem: "CERT".into(),
            private_key_pem: "KEY".into(),
        }
    }

    #[test]
    fn an_entry_is_told_its_exits_public_half_and_its_own_key() {
        let exit = record(1, reality(), None);
        let entry = record(2, NodeSecurity::Tls(tls_params()), Some(NodeId(1)));
        let key = ChainKey::generate();
        let chain = NodeChain {
            exit: Some((exit.spec.clone(), key)),
            entry_keys: vec![],
        };
        let settings = node_settings(&entry, &tls_private(), &chain).unwrap();
        let upstream = settings.upstream.unwrap();
        assert_eq!(
            (upstream.host.as_str(), upstream.port),
            ("node-1.example.com", 8443)
        );
        assert_eq!(upstream.public_key, decode_key(PUBLIC_KEY).unwrap());
        assert_eq!(upstream.short_id, "6ba85179e30d4fc2");
        assert_eq!(upstream.server_name, "www.example.org");
        assert_eq!(upstream.key, key.0);
        assert!(settings.peer_keys.is_empty());
    }

    #[test]
    fn an_exit_is_told_its_entries_keys_and_nothing_to_dial() {
        let exit = record(1, NodeSecurity::Tls(tls_params()), None);
        let keys = [ChainKey::generate(), ChainKey::generate()];
        let chain = NodeChain {
            exit: None,
            entry_keys: keys.to_vec(),
        };
        let settings = node_settings(&exit, &tls_private(), &chain).unwrap();
        assert_eq!(settings.upstream, None);
        assert_eq!(settings.peer_keys, vec![keys[0].0, keys[1].0]);
    }

    #[test]
    fn a_tls_node_is_told_the_paths_of_its_http_transports() {
        let plain = record(1, NodeSecurity::Tls(tls_params()), None);
        let settings = node_settings(&plain, &tls_private(), &NodeChain::default()).unwrap();
        assert_eq!(settings.http, HttpSettings::default());
        let mut params = tls_params();
        params.transports = vec![
            NodeTransport::Tcp,
            NodeTransport::Ws {
                path: "/s3cret/ws".into(),
            },
            NodeTransport::Httpupgrade {
                path: "/s3cret/up".into(),
            },
        ];
        let node = record(1, NodeSecurity::Tls(params), None);
        let settings = node_settings(&node, &tls_private(), &NodeChain::default()).unwrap();
        assert_eq!(settings.http.ws_path.as_deref(), Some("/s3cret/ws"));
        assert_eq!(
            settings.http.httpupgrade_path.as_deref(),
            Some("/s3cret/up")
        );
        assert_eq!(settings.http.xhttp_path, None);
    }

    #[test]
    fn a_reality_node_is_told_its_xhttp_path_and_grpc_service_name() {
        let NodeSecurity::Reality(mut params) = reality() else {
            unreachable!()
        };
        params.transports = vec![
            NodeTransport::Xhttp {
                path: "/s3cret/xh".into(),
            },
            NodeTransport::Tcp,
            NodeTransport::Grpc {
                service_name: "s3cret.grpc".into(),
            },
        ];
        let node = record(1, NodeSecurity::Reality(params), None);
        let private = NodePrivateSettings::Reality {
            private_key: PUBLIC_KEY.into(),
            short_ids: vec!["6ba85179e30d4fc2".into()],
            dest: "www.example.org:443".into(),
            server_names: vec!["www.example.org".into()],
            max_time_diff_ms: 0,
        };
        let settings = node_settings(&node, &private, &NodeChain::default()).unwrap();
        assert_eq!(
            settings.http,
            HttpSettings {
                xhttp_path: Some("/s3cret/xh".into()),
                grpc_service_name: Some("s3cret.grpc".into()),
                ..HttpSettings::default()
            }
        );
    }

    #[test]
    fn an_entry_that_cannot_reach_a_reality_exit_gets_no_settings_at_all() {
        // Serving without an upstream would send the entry's users out of the entry itself.
        let entry = record(2, reality(), Some(NodeId(1)));
        let private = NodePrivateSettings::Reality {
            private_key: PUBLIC_KEY.into(),
            short_ids: vec![],
            dest: "www.example.org:443".into(),
            server_names: vec![],
            max_time_diff_ms: 0,
        };
        let gone = NodeChain::default();
        assert!(node_settings(&entry, &private, &gone).is_err());
        let tls_exit = NodeChain {
            exit: Some((
                record(1, NodeSecurity::Tls(tls_params()), None).spec,
                ChainKey::generate(),
            )),
            entry_keys: vec![],
        };
        assert!(node_settings(&entry, &private, &tls_exit).is_err());
    }

    fn tls_params() -> TlsParams {
        TlsParams {
            server_name: "vpn.example.com".into(),
            allow_insecure: true,
            transports: Vec::new(),
        }
    }
}
