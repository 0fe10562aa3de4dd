//! Aggregate counters of the node: nothing per user, nothing per address or destination; the
//! only label is a refusal's reason.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Why a connection did not become a proxied session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandshakeFailure {
    /// The TLS handshake failed or timed out.
    Tls,
    /// The first bytes were not a VLESS request (HTTP, random bytes, malformed header).
    NotVless,
    /// A well-formed request from an id that is not allowed (unknown, revoked or expired).
    UnknownUser,
    /// The client sent an incomplete request and then nothing until the handshake timeout.
    Timeout,
    /// The destination is in a refused network (loopback, private, the node itself...).
    EgressRefused,
    /// The destination could not be resolved or connected to.
    ConnectFailed,
    /// A request the node does not serve (an unsupported flow or command).
    Unsupported,
}

/// Why the node refused something to keep one user or one address within its budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetRefusal {
    /// A Mux connection already had `max_mux_sessions` live sessions.
    MuxSessions,
    /// A Mux `New` frame named a session id that is still live.
    MuxSessionReused,
    /// The user already held `max_sockets_per_user` outbound sockets.
    UserSockets,
    /// The node already held its most outbound sockets.
    NodeSockets,
    /// The client's address (IPv4, or IPv6 /64) already had `max_connections_per_source`.
    SourceConnections,
    /// The client's address already had `max_handshakes_per_source` handshakes under way.
    SourceHandshakes,
}

impl BudgetRefusal {
    pub const ALL: [BudgetRefusal; 6] = [
        BudgetRefusal::MuxSessions,
        BudgetRefusal::MuxSessionReused,
        BudgetRefusal::UserSockets,
        BudgetRefusal::NodeSockets,
        BudgetRefusal::SourceConnections,
        BudgetRefusal::SourceHandshakes,
    ];

    /// The metric label: a reason, never an address or a user.
    pub fn label(self) -> &'static str {
        match self {
            BudgetRefusal::MuxSessions => "mux_sessions",
            BudgetRefusal::MuxSessionReused => "mux_session_reused",
            BudgetRefusal::UserSockets => "subscriber_sockets",
            BudgetRefusal::NodeSockets => "node_sockets",
            BudgetRefusal::SourceConnections => "source_connections",
            BudgetRefusal::SourceHandshakes => "source_handshakes",
        }
    }
}

/// Live counters, shared by every connection task.
#[derive(Debug, Default)]
pub struct Metrics {
    connections_accepted: AtomicU64,
    connections_active: AtomicU64,
    sessions: AtomicU64,
    bytes_up: AtomicU64,
    bytes_down: AtomicU64,
    vision_splice_bytes: AtomicU64,
    fallbacks: AtomicU64,
    revocation_cuts: AtomicU64,
    failures: [AtomicU64; 7],
    refusals: [AtomicU64; 6],
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetricsSnapshot {
    pub connections_accepted: u64,
    pub connections_active: u64,
    /// Connections that became proxied sessions (TCP, UDP or mux).
    pub sessions: u64,
    /// Bytes from clients towards destinations (after TLS, before the destination).
    pub bytes_up: u64,
    /// Bytes from destinations towards clients.
    pub bytes_down: u64,
    /// Bytes moved socket to socket with splice(2), never entering our memory (always 0 off
    /// Linux): Vision's direct copy (of `bytes_up` and `bytes_down`), and REALITY's relay of
    /// strangers to `dest`.
    pub vision_splice_bytes: u64,
    /// Connections handed to the fallback website.
    pub fallbacks: u64,
    /// Connections cut because their user was revoked or expired.
    pub revocation_cuts: u64,
    pub tls_failures: u64,
    pub not_vless: u64,
    pub unknown_user: u64,
    pub handshake_timeouts: u64,
    pub egress_refused: u64,
    pub connect_failed: u64,
    pub unsupported: u64,
    /// Refusals per [`BudgetRefusal`], in the order of [`BudgetRefusal::ALL`].
    pub budget_refusals: [u64; 6],
}

impl MetricsSnapshot {
    /// How often the node refused for `reason`.
    pub fn refusals(&self, reason: BudgetRefusal) -> u64 {
        self.budget_refusals[reason as usize]
    }
}

impl Metrics {
    pub fn snapshot(&self) -> MetricsSnapshot {
        let f = |kind: HandshakeFailure| self.failures[kind as usize].load(Relaxed);
        MetricsSnapshot {
            connections_accepted: self.connections_accepted.load(Relaxed),
            connections_active: self.connections_active.load(Relaxed),
            sessions: self.sessions.load(Relaxed),
            bytes_up: self.bytes_up.load(Relaxed),
            bytes_down: self.bytes_down.load(Relaxed),
            vision_splice_bytes: self.vision_splice_bytes.load(Relaxed),
            fallbacks: self.fallbacks.load(Relaxed),
            revocation_cuts: self.revocation_cuts.load(Relaxed),
            tls_failures: f(HandshakeFailure::Tls),
            not_vless: f(HandshakeFailure::NotVless),
            unknown_user: f(HandshakeFailure::UnknownUser),
            handshake_timeouts: f(HandshakeFailure::Timeout),
            egress_refused: f(HandshakeFailure::EgressRefused),
            connect_failed: f(HandshakeFailure::ConnectFailed),
            unsupported: f(HandshakeFailure::Unsupported),
            budget_refusals: BudgetRefusal::ALL.map(|r| self.refusals[r as usize].load(Relaxed)),
        }
    }

    pub(crate) fn connection_opened(&self) {
        self.connections_accepted.fetch_add(1, Relaxed);
        self.connections_active.fetch_add(1, Relaxed);
    }

    pub(crate) fn connection_closed(&self) {
        self.connections_active.fetch_sub(1, Relaxed);
    }

    pub(crate) fn session_started(&self) {
        self.sessions.fetch_add(1, Relaxed);
    }

    pub(crate) fn fallback(&self) {
        self.fallbacks.fetch_add(1, Relaxed);
    }

    pub(crate) fn revocation_cut(&self) {
        self.revocation_cuts.fetch_add(1, Relaxed);
    }

    pub(crate) fn failure(&self, kind: HandshakeFailure) {
        self.failures[kind as usize].fetch_add(1, Relaxed);
    }

    pub(crate) fn refused(&self, reason: BudgetRefusal) {
        self.refusals[reason as usize].fetch_add(1, Relaxed);
    }

    /// Adds bytes counted locally by a relay; called in bulk, not per read.
    pub(crate) fn add_bytes(&self, up: u64, down: u64) {
        if up > 0 {
            self.bytes_up.fetch_add(up, Relaxed);
        }
        if down > 0 {
            self.bytes_down.fetch_add(down, Relaxed);
        }
    }

    /// Adds bytes a relay moved with splice(2) (already counted by [`Metrics::add_bytes`]).
    pub(crate) fn add_spliced(&self, bytes: u64) {
        if bytes > 0 {
            self.vision_splice_bytes.fetch_add(bytes, Relaxed);
        }
    }
}

/// Relays report here in bulk, not per read.
impl xtls_stream::Meter for Metrics {
    fn add(&self, moved: xtls_stream::Moved) {
        self.add_bytes(moved.up, moved.down);
        self.add_spliced(moved.spliced);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_shows_each_failure_kind_in_its_own_counter() {
        let m = Metrics::default();
        m.failure(HandshakeFailure::UnknownUser);
        m.failure(HandshakeFailure::UnknownUser);
        m.failure(HandshakeFailure::Unsupported);
        let s = m.snapshot();
        assert_eq!(s.unknown_user, 2);
        assert_eq!(s.unsupported, 1);
        assert_eq!(s.tls_failures + s.not_vless + s.handshake_timeouts, 0);
    }

    #[test]
    fn each_refusal_reason_has_its_own_counter_and_label() {
        let m = Metrics::default();
        m.refused(BudgetRefusal::UserSockets);
        m.refused(BudgetRefusal::UserSockets);
        m.refused(BudgetRefusal::SourceHandshakes);
        let s = m.snapshot();
        assert_eq!(s.refusals(BudgetRefusal::UserSockets), 2);
        assert_eq!(s.refusals(BudgetRefusal::SourceHandshakes), 1);
        assert_eq!(s.refusals(BudgetRefusal::MuxSessions), 0);
        let labels: std::collections::HashSet<_> =
            BudgetRefusal::ALL.iter().map(|r| r.label()).collect();
        assert_eq!(labels.len(), BudgetRefusal::ALL.len());
    }

    #[test]
    fn closing_a_connection_lowers_the_active_count_but_not_the_accepted_count() {
        let m = Metrics::default();
        m.connection_opened();
        m.connection_opened();
        m.connection_closed();
        m.add_bytes(10, 0);
        m.add_bytes(5, 7);
        let s = m.snapshot();
        assert_eq!((s.connections_accepted, s.connections_active), (2, 1));
        assert_eq!((s.bytes_up, s.bytes_down), (15, 7));
    }
}
