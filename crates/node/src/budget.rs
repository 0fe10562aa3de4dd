//! Budgets that keep one user or one address from taking every descriptor of the process:
//! outbound sockets per user and in total ([`SocketBudget`]), and connections and handshakes
//! per client address ([`SourceTable`]).
//!
//! Both are counted in memory only, never logged nor exported: a user is known by the key of
//! the access table, an address by its IPv4 address or its IPv6 /64. An entry lives exactly as
//! long as a lease or a slot holds it, so the tables never hold more entries than the node has
//! live sockets or connections (both capped).
//!
//! The per-user and per-source caps are sized for one person. On an exit node a whole entry
//! node's users arrive under one peer key from one address, so peer keys are held only to the
//! node-wide socket cap, and an address that proved a peer key within [`PEER_SOURCE_TRUST`]
//! only to the node's connection cap: the entry holds each of its users to their own caps
//! before anything reaches the exit.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use vless::{LookupKey, UserKey};

use crate::access::{unix_now, AccessTable};

use crate::metrics::BudgetRefusal;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Outbound sockets (TCP, UDP and XUDP) of every user: at most `per_user` for one user across
/// all their connections, at most `total` for the node.
pub(crate) struct SocketBudget {
    per_user: usize,
    total: usize,
    /// Entry nodes' keys on an exit: within `total` only.
    peers: AccessTable,
    counts: Mutex<SocketCounts>,
}

#[derive(Default)]
struct SocketCounts {
    total: usize,
    by_user: HashMap<LookupKey, usize>,
}

/// One outbound socket of a user, given back to the budget when dropped.
pub(crate) struct SocketLease {
    budget: Arc<SocketBudget>,
    user: LookupKey,
}

impl SocketBudget {
    pub(crate) fn new(per_user: usize, total: usize, peers: AccessTable) -> Arc<Self> {
        Arc::new(SocketBudget {
            per_user,
            total,
            peers,
            counts: Mutex::new(SocketCounts::default()),
        })
    }

    /// A lease for one more socket of `user`, or why not.
    pub(crate) fn take(self: &Arc<Self>, user: LookupKey) -> Result<SocketLease, BudgetRefusal> {
        let mut counts = lock(&self.counts);
        if counts.total >= self.total {
            return Err(BudgetRefusal::NodeSockets);
        }
        let mine = counts.by_user.entry(user).or_insert(0);
        // A lookup key allows exactly the users its id does (bytes 6–7 are ignored).
        if *mine >= self.per_user && !self.peers.is_allowed(&UserKey(user.0), unix_now()) {
            return Err(BudgetRefusal::UserSockets);
        }
        *mine += 1;
        counts.total += 1;
        Ok(SocketLease {
            budget: self.clone(),
            user,
        })
    }

    #[cfg(test)]
    fn in_use(&self, user: &LookupKey) -> (usize, usize) {
        let counts = lock(&self.counts);
        (counts.by_user.get(user).copied().unwrap_or(0), counts.total)
    }
}

impl Drop for SocketLease {
    fn drop(&mut self) {
        let mut counts = lock(&self.budget.counts);
        counts.total = counts.total.saturating_sub(1);
        if let Some(mine) = counts.by_user.get_mut(&self.user) {
            *mine = mine.saturating_sub(1);
            if *mine == 0 {
                counts.by_user.remove(&self.user);
            }
        }
    }
}

/// A client address as it is counted: IPv4 alone, IPv6 by its /64 (one subscriber's network).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Source {
    V4([u8; 4]),
    V6([u8; 8]),
}

impl Source {
    fn of(ip: IpAddr) -> Self {
        match ip.to_canonical() {
            IpAddr::V4(v4) => Source::V4(v4.octets()),
            IpAddr::V6(v6) => {
                let mut prefix = [0u8; 8];
                prefix.copy_from_slice(&v6.octets()[..8]);
                Source::V6(prefix)
            }
        }
    }
}

/// How long an address that proved a peer key (an entry node's) is admitted outside the
/// per-source caps: its connections keep proving it, and an entry that goes quiet for this
/// long is counted like anyone else again.
pub(crate) const PEER_SOURCE_TRUST: Duration = Duration::from_secs(600);

#[derive(Default)]
struct SourceCounts {
    connections: usize,
    handshakes: usize,
}

/// Live connections and handshakes per client address.
pub(crate) struct SourceTable {
    max_connections: usize,
    max_handshakes: usize,
    counts: Mutex<HashMap<Source, SourceCounts>>,
    /// Addresses that proved a peer key, and when they last did. Only a valid peer key adds
    /// one, so it holds no more than the exit's entries' addresses.
    peers: Mutex<HashMap<Source, Instant>>,
}

/// One connection of a source, handshaking until [`SourceSlot::handshake_done`]; given back
/// when dropped. A peer's slot counts nothing.
pub(crate) struct SourceSlot {
    table: Arc<SourceTable>,
    source: Source,
    handshaking: bool,
    counted: bool,
}

impl SourceTable {
    pub(crate) fn new(max_connections: usize, max_handshakes: usize) -> Arc<Self> {
        Arc::new(SourceTable {
            max_connections,
            max_handshakes,
            counts: Mutex::new(HashMap::new()),
            peers: Mutex::new(HashMap::new()),
        })
    }

    /// A slot for a new connection from `ip`, counted as handshaking, or why not. An address
    /// that proved a peer key lately is admitted uncounted.
    pub(crate) fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<SourceSlot, BudgetRefusal> {
        let source = Source::of(ip);
        let trusted = lock(&self.peers)
            .get(&source)
            .is_some_and(|proved| proved.elapsed() < PEER_SOURCE_TRUST);
        if trusted {
            return Ok(SourceSlot {
                table: self.clone(),
                source,
                handshaking: false,
                counted: false,
            });
        }
        let mut counts = lock(&self.counts);
        let entry = counts.entry(source).or_default();
        let refusal = if entry.connections >= self.max_connections {
            Some(BudgetRefusal::SourceConnections)
        } else if entry.handshakes >= self.max_handshakes {
            Some(BudgetRefusal::SourceHandshakes)
        } else {
            None
        };
        if let Some(refusal) = refusal {
            if entry.connections == 0 {
                counts.remove(&source);
            }
            return Err(refusal);
        }
        entry.connections += 1;
        entry.handshakes += 1;
        Ok(SourceSlot {
            table: self.clone(),
            source,
            handshaking: true,
            counted: true,
        })
    }

    #[cfg(test)]
    fn sources(&self) -> usize {
        lock(&self.counts).len()
    }
}

impl SourceSlot {
    /// The connection got past its handshake (a client of ours, or a stranger handed on).
    pub(crate) fn handshake_done(&mut self) {
        if !self.handshaking {
            return;
        }
        self.handshaking = false;
        let mut counts = lock(&self.table.counts);
        if let Some(entry) = counts.get_mut(&self.source) {
            entry.handshakes = entry.handshakes.saturating_sub(1);
        }
    }

    /// The connection presented a peer key: it stops counting against its address, and the
    /// address is admitted uncounted for [`PEER_SOURCE_TRUST`] from now.
    pub(crate) fn peer_proved(&mut self) {
        {
            let mut peers = lock(&self.table.peers);
            peers.retain(|_, proved| proved.elapsed() < PEER_SOURCE_TRUST);
            peers.insert(self.source, Instant::now());
        }
        self.handshake_done();
        self.release();
        self.counted = false;
    }

    fn release(&mut self) {
        if !self.counted {
            return;
        }
        let mut counts = lock(&self.table.counts);
        if let Some(entry) = counts.get_mut(&self.source) {
            entry.connections = entry.connections.saturating_sub(1);
            if self.handshaking {
                entry.handshakes = entry.handshakes.saturating_sub(1);
            }
            if entry.connections == 0 {
                counts.remove(&self.source);
            }
        }
    }
}

impl Drop for SourceSlot {
    fn drop(&mut self) {
        self.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: LookupKey = LookupKey([1; 16]);
    const BOB: LookupKey = LookupKey([2; 16]);

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_user_at_their_budget_is_refused_while_others_go_on() {
        let budget = SocketBudget::new(2, 10, AccessTable::new());
        let a1 = budget.take(ALICE).unwrap();
        let _a2 = budget.take(ALICE).unwrap();
        assert_eq!(budget.take(ALICE).err(), Some(BudgetRefusal::UserSockets));
        let _b = budget.take(BOB).unwrap();
        drop(a1);
        let _a3 = budget.take(ALICE).unwrap();
        assert_eq!(budget.in_use(&ALICE), (2, 3));
    }

    #[test]
    fn the_node_total_caps_every_user_together() {
        let budget = SocketBudget::new(5, 3, AccessTable::new());
        let held: Vec<_> = (0..3u8)
            .map(|i| budget.take(LookupKey([i; 16])).unwrap())
            .collect();
        assert_eq!(
            budget.take(LookupKey([9; 16])).err(),
            Some(BudgetRefusal::NodeSockets)
        );
        drop(held);
        assert_eq!(budget.in_use(&LookupKey([0; 16])), (0, 0));
        assert!(budget.take(LookupKey([9; 16])).is_ok());
    }

    #[test]
    fn handshakes_and_connections_per_source_are_capped_and_given_back() {
        let table = SourceTable::new(3, 2);
        let mut first = table.admit(ip("192.0.2.1")).unwrap();
        let _second = table.admit(ip("192.0.2.1")).unwrap();
        assert_eq!(
            table.admit(ip("192.0.2.1")).err(),
            Some(BudgetRefusal::SourceHandshakes)
        );
        first.handshake_done();
        let mut third = table.admit(ip("192.0.2.1")).unwrap();
        third.handshake_done();
        assert_eq!(
            table.admit(ip("192.0.2.1")).err(),
            Some(BudgetRefusal::SourceConnections)
        );
        // Another address is counted on its own.
        assert!(table.admit(ip("192.0.2.2")).is_ok());
        drop(first);
        assert!(table.admit(ip("192.0.2.1")).is_ok());
    }

    #[test]
    fn ipv6_addresses_in_one_64_count_together_and_mapped_ipv4_as_ipv4() {
        let table = SourceTable::new(2, 2);
        let _a = table.admit(ip("2001:db8:1:2::1")).unwrap();
        let _b = table.admit(ip("2001:db8:1:2:ffff::9")).unwrap();
        assert!(table.admit(ip("2001:db8:1:2::77")).is_err());
        assert!(table.admit(ip("2001:db8:1:3::1")).is_ok());
        let _c = table.admit(ip("192.0.2.7")).unwrap();
        let _d = table.admit(ip("::ffff:192.0.2.7")).unwrap();
        assert!(table.admit(ip("192.0.2.7")).is_err());
    }

    #[test]
    fn a_peer_key_is_held_only_to_the_node_total() {
        let peers = AccessTable::new();
        peers.apply(crate::AccessUpdate::Snapshot {
            revision: 1,
            entries: vec![crate::AccessEntry {
                key: UserKey(BOB.0),
                expires_at: i64::MAX,
            }],
        });
        let budget = SocketBudget::new(1, 3, peers);
        let _a = budget.take(ALICE).unwrap();
        assert_eq!(budget.take(ALICE).err(), Some(BudgetRefusal::UserSockets));
        let _b1 = budget.take(BOB).unwrap();
        let _b2 = budget.take(BOB).unwrap();
        assert_eq!(budget.take(BOB).err(), Some(BudgetRefusal::NodeSockets));
    }

    #[test]
    fn an_address_that_proved_a_peer_key_is_admitted_outside_the_per_source_caps() {
        let table = SourceTable::new(1, 1);
        let mut entry = table.admit(ip("192.0.2.9")).unwrap();
        assert!(table.admit(ip("192.0.2.9")).is_err());
        entry.peer_proved();
        // Its own slot no longer counts, and new connections from it are not counted.
        assert_eq!(table.sources(), 0);
        let more: Vec<_> = (0..10)
            .map(|_| table.admit(ip("192.0.2.9")).unwrap())
            .collect();
        assert_eq!(table.sources(), 0);
        drop(more);
        drop(entry);
        // Anyone else is still held to the caps.
        let _other = table.admit(ip("192.0.2.10")).unwrap();
        assert!(table.admit(ip("192.0.2.10")).is_err());
    }

    #[test]
    fn the_table_forgets_a_source_once_its_last_connection_ends() {
        let table = SourceTable::new(4, 4);
        let slots: Vec<_> = (0..3)
            .map(|i| table.admit(ip(&format!("198.51.100.{i}"))).unwrap())
            .collect();
        assert_eq!(table.sources(), 3);
        assert!(SourceTable::new(0, 0).admit(ip("198.51.100.9")).is_err());
        drop(slots);
        assert_eq!(table.sources(), 0);
    }
}
