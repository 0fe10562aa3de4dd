//! One feed connection's conversation: `Hello`, then settings, snapshots and changes into the node's table, answers to pings, applied revisions and stats back.

use std::time::Duration;

use feed_wire::{Refusal, Resume, ToControl, ToNode};
use node::{AccessUpdate, Applied, CancellationToken};
use tokio::time::{interval, sleep_until, Instant, MissedTickBehavior};

use crate::link::{Link, LinkError};
use crate::snapshot::{entry, Assembly};
use crate::state::State;
use crate::Timing;

/// How a connection ended.
#[derive(Debug)]
pub(crate) enum Ended {
    Shutdown,
    Refused(Refusal),
    Lost(LinkError),
}

/// Talks to the control plane over `link` until it ends. `synced` tells the caller whether
/// the link got as far as settings or table data (then the next dial need not back off long).
pub(crate) async fn converse(
    link: &mut Link,
    state: &mut State,
    timing: &Timing,
    shutdown: &CancellationToken,
    synced: &mut bool,
) -> Ended {
    match run(link, state, timing, shutdown, synced).await {
        Ok(ended) => ended,
        Err(e) => Ended::Lost(e),
    }
}

async fn run(
    link: &mut Link,
    state: &mut State,
    timing: &Timing,
    shutdown: &CancellationToken,
    synced: &mut bool,
) -> Result<Ended, LinkError> {
    let resume = state.epoch().map(|epoch| Resume {
        epoch,
        revision: state.table().revision(),
    });
    link.send(&ToControl::Hello {
        protocol_version: feed_wire::PROTOCOL_VERSION,
        software_version: env!("CARGO_PKG_VERSION").to_owned(),
        resume,
    })
    .await?;
    let mut stats = interval(timing.stats_interval.max(Duration::from_millis(10)));
    stats.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut cache = interval(timing.cache_interval.max(Duration::from_millis(10)));
    cache.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut silent_until = Instant::now() + timing.silence_limit;
    let mut assembly: Option<Assembly> = None;
    loop {
        let message = tokio::select! {
            _ = shutdown.cancelled() => return Ok(Ended::Shutdown),
            _ = sleep_until(silent_until) => return Err(LinkError::Timeout),
            _ = stats.tick() => {
                if let Some(m) = state.stats() {
                    link.send(&ToControl::Stats {
                        connections: m.connections_active,
                        bytes_up: m.bytes_up,
                        bytes_down: m.bytes_down,
                    })
                    .await?;
                }
                continue;
            }
            _ = cache.tick() => {
                state.save_table().await;
                continue;
            }
            message = link.recv() => message?,
        };
        silent_until = Instant::now() + timing.silence_limit;
        match message {
            ToNode::Ping { nonce } => link.send(&ToControl::Pong { nonce }).await?,
            ToNode::Settings(settings) => {
                state.set_settings(*settings);
                *synced = true;
            }
            ToNode::SnapshotBegin {
                epoch,
                revision,
                total,
            } => {
                // A new snapshot replaces one that was cut short.
                assembly = Some(Assembly::begin(epoch, revision, total));
            }
            ToNode::SnapshotChunk { entries } => assembly
                .as_mut()
                .ok_or(LinkError::Protocol("a snapshot chunk outside a snapshot"))?
                .add(&entries)
                .map_err(LinkError::Protocol)?,
            ToNode::SnapshotEnd => {
                let complete = assembly
                    .take()
                    .ok_or(LinkError::Protocol("a snapshot end outside a snapshot"))?
                    .finish()
                    .map_err(LinkError::Protocol)?;
                state.apply_snapshot(complete);
                *synced = true;
                let revision = state.table().revision();
                link.send(&ToControl::Applied { revision }).await?;
            }
            ToNode::Changes {
                revision,
                upserts,
                revoked,
            } => {
                if assembly.is_some() {
                    return Err(LinkError::Protocol("changes in the middle of a snapshot"));
                }
                if state.epoch().is_none() {
                    return Err(LinkError::Protocol("changes before any snapshot"));
                }
                let update = AccessUpdate::Changes {
                    revision,
                    upserts: upserts.iter().map(entry).collect(),
                    revoked: revoked.into_iter().map(vless::UserKey).collect(),
                };
                match state.apply_changes(update) {
                    Applied::Applied => tracing::debug!(revision, "control link: changes applied"),
                    Applied::Stale => {
                        tracing::debug!(revision, "control link: stale changes ignored")
                    }
                }
                *synced = true;
                let revision = state.table().revision();
                link.send(&ToControl::Applied { revision }).await?;
            }
            ToNode::Refused { reason } => return Ok(Ended::Refused(reason)),
            ToNode::Joined { .. } => return Err(LinkError::Protocol("Joined on a feed link")),
        }
    }
}
