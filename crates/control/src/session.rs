//! One node's connection, after the TLS handshake. The first message decides what it is:
//! `Join` (enrolment with a one-time token: the certificate presented becomes the node's
//! credential) or `Hello` (a feed: settings, then a snapshot or the changes since the node's
//! revision, then every change as it happens, pings both ways and the node's reports). A feed
//! ends when the node's credential stops being valid, checked every [`RECHECK`].

use std::time::Duration;

use app::{AccessRow, App, Enrolment};
use domain::{CertPin, NodeId, NodePrivateSettings, NodeRecord, NodeStatus};
use feed_wire::{
    NodeSettings, Parse, Refusal, Resume, SecuritySettings, ToControl, ToNode, WireEntry,
    MAX_CHUNK_ENTRIES, PING_INTERVAL, PROTOCOL_VERSION, SILENCE_LIMIT,
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
        let mut settings = node_settings(node, private)?;
        link.send(&ToNode::Settings(settings.clone())).await?;
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
                    let current = node_settings(&node, &private)?;
                    if current != settings {
                        link.send(&ToNode::Settings(current.clone())).await?;
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

/// What the node is told: its port and the secrets of its security, as stored.
fn node_settings(
    node: &NodeRecord,
    private: &NodePrivateSettings,
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
    Ok(NodeSettings {
        port: node.spec.port,
        security,
    })
}

/// An X25519 key as `milly keygen` prints it: 32 bytes of unpadded base64url.
fn decode_key(text: &str) -> Result<[u8; 32], ControlError> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(ControlError::Settings(
            "a REALITY private key is not 32 bytes of base64url",
        ))
}
