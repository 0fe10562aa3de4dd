//! Telling the admins when a remote node goes offline or falls behind the access feed, once
//! per incident, and once when it is back. Which alerts are due is decided here from what the
//! nodes reported; the state of each incident is kept in the store and every change is
//! claimed before its message goes out, so neither a second look nor a new leader repeats one.
//! The bot sends them (only the leader runs it).

use domain::{Location, NodeId, NodeKind, NodeStatus};
use time::{Duration, OffsetDateTime};

use store::{Behind, NodeAlertState};

use crate::nodes::OFFLINE_AFTER;
use crate::{App, AppError};

/// A node silent this long is an incident worth a message. Longer than [`OFFLINE_AFTER`] (when
/// `milly node list` shows it offline) by a minute: a node whose connection broke redials
/// within its backoff (at most 30 s), so a restart of the control plane or a blip of the
/// network pages no one.
pub const OFFLINE_ALERT_AFTER: Duration = Duration::seconds(90);

/// A node is behind when it still lacks, this long after, a revision the control plane had
/// when it was first seen without it. A connected node applies a change within a second, so a
/// node busy with a stream of changes never trips it (it keeps applying the older revisions);
/// one that stops applying does, and then blocks and expiries do not reach it.
pub const BEHIND_ALERT_AFTER: Duration = Duration::minutes(2);

/// What the admins are told about a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeAlert {
    pub name: String,
    pub location: Location,
    pub kind: NodeAlertKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeAlertKind {
    /// No report for [`OFFLINE_ALERT_AFTER`].
    Offline { last_seen_at: OffsetDateTime },
    /// Reporting again after an [`NodeAlertKind::Offline`].
    BackOnline,
    /// Revisions behind (all users' changes together) for [`BEHIND_ALERT_AFTER`].
    Behind { lag: u64 },
    /// Has the revision it lacked, after a [`NodeAlertKind::Behind`].
    CaughtUp,
}

/// What a node last said, against the control plane's revision at `now`.
#[derive(Debug, Clone, Copy)]
struct Seen {
    last_seen_at: OffsetDateTime,
    applied: i64,
    revision: i64,
}

/// The next state of one node's alerts and what to tell the admins on the way there.
fn step(
    state: NodeAlertState,
    seen: Seen,
    now: OffsetDateTime,
) -> (NodeAlertState, Vec<NodeAlertKind>) {
    let silent = now - seen.last_seen_at;
    let mut next = state;
    let mut alerts = Vec::new();
    if !state.offline_alerted && silent >= OFFLINE_ALERT_AFTER {
        // Offline says it all: whatever lag it had is part of this incident.
        alerts.push(NodeAlertKind::Offline {
            last_seen_at: seen.last_seen_at,
        });
        return (
            NodeAlertState {
                offline_alerted: true,
                behind: None,
            },
            alerts,
        );
    }
    if silent >= OFFLINE_AFTER {
        // Silent, not yet an incident (or one told already): its revision says nothing new.
        return (next, alerts);
    }
    if state.offline_alerted {
        alerts.push(NodeAlertKind::BackOnline);
        next.offline_alerted = false;
    }
    next.behind = match next.behind {
        _ if seen.applied >= seen.revision => {
            if next.behind.is_some_and(|b| b.alerted) {
                alerts.push(NodeAlertKind::CaughtUp);
            }
            None
        }
        None => Some(Behind {
            revision: seen.revision,
            since: now,
            alerted: false,
        }),
        // It has what it lacked: a new, younger lack starts now.
        Some(b) if seen.applied >= b.revision => {
            if b.alerted {
                alerts.push(NodeAlertKind::CaughtUp);
            }
            Some(Behind {
                revision: seen.revision,
                since: now,
                alerted: false,
            })
        }
        Some(b) if !b.alerted && now - b.since >= BEHIND_ALERT_AFTER => {
            alerts.push(NodeAlertKind::Behind {
                lag: u64::try_from(seen.revision - seen.applied).unwrap_or(0),
            });
            Some(Behind { alerted: true, ..b })
        }
        unchanged => unchanged,
    };
    (next, alerts)
}

impl App {
    /// The alerts due at `now`, each claimed in the store so it is returned once: the caller
    /// tells the admins. Disabled nodes, the embedded node and nodes that never reported are
    /// not watched; a node that is disabled forgets its incidents.
    pub async fn claim_node_alerts(&self, now: OffsetDateTime) -> Result<Vec<NodeAlert>, AppError> {
        let records = self.store().node_records().await?;
        let statuses = self.store().node_statuses().await?;
        let stored = self.store().node_alert_states().await?;
        let revision = self.store().access_revision().await?;
        let mut due = Vec::new();
        for record in records.iter().filter(|r| r.kind == NodeKind::Remote) {
            let id = record.spec.id;
            let status: Option<&NodeStatus> =
                statuses.iter().find(|(n, _)| *n == id).map(|(_, s)| s);
            let seen_state = stored
                .iter()
                .find(|(n, _)| *n == id)
                .map(|(_, s)| *s)
                .unwrap_or(store::StoredAlertState {
                    state: NodeAlertState::default(),
                    version: None,
                });
            let (next, alerts) = match status {
                Some(status) if record.enabled => step(
                    seen_state.state,
                    Seen {
                        last_seen_at: status.last_seen_at,
                        applied: i64::try_from(status.applied_revision).unwrap_or(i64::MAX),
                        revision,
                    },
                    now,
                ),
                _ => (NodeAlertState::default(), Vec::new()),
            };
            if next == seen_state.state {
                continue;
            }
            if !self.claim_alert_state(id, &seen_state, &next).await? {
                continue;
            }
            due.extend(alerts.into_iter().map(|kind| NodeAlert {
                name: record.spec.name.clone(),
                location: record.spec.location.clone(),
                kind,
            }));
        }
        Ok(due)
    }

    async fn claim_alert_state(
        &self,
        node: NodeId,
        seen: &store::StoredAlertState,
        next: &NodeAlertState,
    ) -> Result<bool, AppError> {
        Ok(self
            .store()
            .replace_node_alert_state(node, seen, next)
            .await?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use store::testing::TestDb;
    use store::Store;

    use super::*;
    use crate::AppSettings;

    fn app(store: &Store) -> App {
        App::new(store.clone(), AppSettings::default())
    }

    /// What is claimed at `now`, by kind.
    async fn claimed(app: &App, now: OffsetDateTime) -> Vec<NodeAlertKind> {
        app.claim_node_alerts(now)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.kind)
            .collect()
    }

    /// Now, in the whole seconds the store keeps.
    fn now() -> OffsetDateTime {
        OffsetDateTime::now_utc().replace_nanosecond(0).unwrap()
    }

    fn secs(s: i64) -> Duration {
        Duration::seconds(s)
    }

    /// A change of someone's access: the store's revision moves on.
    async fn access_changes(db: &TestDb, telegram_id: i64, now: OffsetDateTime) -> u64 {
        let before = db.store.access_revision().await.unwrap();
        db.subscriber(telegram_id, "month", 30, now).await;
        let after = db.store.access_revision().await.unwrap();
        assert!(after > before, "a new subscriber moves the access revision");
        u64::try_from(after).unwrap()
    }

    async fn an_offline_node_is_reported_once_and_its_return_once(db: &TestDb) {
        let leader = app(&db.store);
        let t0 = now();
        let node = db.remote_node("de-1", "🇩🇪 Frankfurt").await;
        db.node_reports(&node, 0, 3, 100, t0).await;
        assert!(claimed(&leader, t0 + secs(5)).await.is_empty());
        // Shown offline after OFFLINE_AFTER, but a redial takes up to its backoff: no page yet.
        assert!(claimed(&leader, t0 + OFFLINE_AFTER + secs(5))
            .await
            .is_empty());
        let alerts = leader
            .claim_node_alerts(t0 + OFFLINE_ALERT_AFTER)
            .await
            .unwrap();
        assert_eq!(
            alerts,
            [NodeAlert {
                name: "de-1".into(),
                location: Location("🇩🇪 Frankfurt".into()),
                kind: NodeAlertKind::Offline { last_seen_at: t0 },
            }]
        );
        assert!(claimed(&leader, t0 + secs(200)).await.is_empty());
        // Another process on the same database takes over: nothing to repeat.
        let next_store = Store::connect(&db.url).await.unwrap();
        let next_leader = app(&next_store);
        assert!(claimed(&next_leader, t0 + secs(300)).await.is_empty());
        db.node_reports(&node, 0, 0, 100, t0 + secs(400)).await;
        assert_eq!(
            claimed(&next_leader, t0 + secs(401)).await,
            [NodeAlertKind::BackOnline]
        );
        assert!(claimed(&leader, t0 + secs(402)).await.is_empty());
        assert!(claimed(&next_leader, t0 + secs(403)).await.is_empty());
        // A second incident is a new one.
        assert_eq!(
            claimed(&leader, t0 + secs(400) + OFFLINE_ALERT_AFTER).await,
            [NodeAlertKind::Offline {
                last_seen_at: t0 + secs(400)
            }]
        );
    }

    async fn a_node_stuck_behind_is_reported_after_the_grace_and_when_it_caught_up(db: &TestDb) {
        let leader = app(&db.store);
        let t0 = now();
        let node = db.remote_node("de-1", "DE").await;
        let old = access_changes(db, 501, t0).await;
        db.node_reports(&node, old, 0, 0, t0).await;
        assert!(claimed(&leader, t0).await.is_empty());
        let new = access_changes(db, 502, t0).await;
        // It keeps reporting, but never gets past `old`.
        for at in [1, 60, 110] {
            db.node_reports(&node, old, 0, 0, t0 + secs(at)).await;
            assert!(claimed(&leader, t0 + secs(at)).await.is_empty(), "{at} s");
        }
        db.node_reports(&node, old, 0, 0, t0 + secs(125)).await;
        assert_eq!(
            claimed(&leader, t0 + secs(1) + BEHIND_ALERT_AFTER).await,
            [NodeAlertKind::Behind { lag: new - old }]
        );
        db.node_reports(&node, old, 0, 0, t0 + secs(130)).await;
        assert!(claimed(&leader, t0 + secs(130)).await.is_empty());
        db.node_reports(&node, new, 0, 0, t0 + secs(140)).await;
        assert_eq!(
            claimed(&leader, t0 + secs(140)).await,
            [NodeAlertKind::CaughtUp]
        );
        assert!(claimed(&leader, t0 + secs(141)).await.is_empty());
    }

    async fn a_busy_node_that_keeps_applying_is_never_behind(db: &TestDb) {
        let leader = app(&db.store);
        let t0 = now();
        let node = db.remote_node("de-1", "DE").await;
        let mut applied = access_changes(db, 600, t0).await;
        // Every minute a change it does not have yet, and every minute the previous one applied.
        for minute in 1..=6 {
            let at = t0 + Duration::minutes(minute);
            let next = access_changes(db, 600 + minute, at).await;
            db.node_reports(&node, applied, 0, 0, at).await;
            assert!(claimed(&leader, at).await.is_empty(), "minute {minute}");
            applied = next;
        }
    }

    async fn disabled_nodes_and_nodes_that_never_reported_are_not_watched(db: &TestDb) {
        let leader = app(&db.store);
        let t0 = now();
        db.remote_node("never", "DE").await;
        let node = db.remote_node("off", "DE").await;
        db.node_reports(&node, 0, 0, 0, t0).await;
        leader.set_node_enabled("off", false).await.unwrap();
        assert!(claimed(&leader, t0 + secs(3600)).await.is_empty());
        // Switched back on while still silent: it is an incident from then on.
        leader.set_node_enabled("off", true).await.unwrap();
        assert_eq!(
            claimed(&leader, t0 + secs(3601)).await,
            [NodeAlertKind::Offline { last_seen_at: t0 }]
        );
    }

    async fn two_processes_looking_at_once_report_an_incident_once(db: &TestDb) {
        let t0 = now();
        let node = db.remote_node("de-1", "DE").await;
        db.node_reports(&node, 0, 0, 0, t0).await;
        let other = Store::connect(&db.url).await.unwrap();
        let (a, b) = (app(&db.store), app(&other));
        let at = t0 + OFFLINE_ALERT_AFTER;
        let (x, y) = tokio::join!(claimed(&a, at), claimed(&b, at));
        assert_eq!(x.len() + y.len(), 1, "{x:?} {y:?}");
    }

    store::backend_tests!(
        an_offline_node_is_reported_once_and_its_return_once,
        a_node_stuck_behind_is_reported_after_the_grace_and_when_it_caught_up,
        a_busy_node_that_keeps_applying_is_never_behind,
        disabled_nodes_and_nodes_that_never_reported_are_not_watched,
        two_processes_looking_at_once_report_an_incident_once,
    );
}
