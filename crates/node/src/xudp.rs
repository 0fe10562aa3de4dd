//! XUDP full-cone mappings: one UDP socket per (user, global id), kept across Mux connections.
//!
//! An Xray client names each local UDP source with an 8-byte global id. When it reconnects
//! (a new Mux connection, say after a network change), the node hands the same socket, and so
//! the same public port, to the new session; the old session stops reading it. A socket whose
//! session ended is kept for [`PARK_TIME`] in case the client comes back. Entries are keyed by
//! the user as well, so nobody can take over another user's mapping by guessing its id.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::time::Instant;

use crate::budget::SocketLease;
use crate::egress::bind_any;

/// How long a mapping outlives its last session.
pub const PARK_TIME: Duration = Duration::from_secs(60);
/// Parked mappings are looked through at most this often.
pub(crate) const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// A user's lookup key and a client's global id.
pub(crate) type MappingKey = (vless::LookupKey, [u8; 8]);

struct Mapping {
    socket: Arc<UdpSocket>,
    v6: bool,
    owner: u64,
    parked_since: Option<Instant>,
    /// The socket counts against its user's budget while parked too.
    _lease: SocketLease,
}

struct Inner {
    mappings: HashMap<MappingKey, Mapping>,
    next_owner: u64,
    last_sweep: Instant,
}

/// The node's XUDP mappings.
pub(crate) struct XudpTable {
    inner: Mutex<Inner>,
}

/// A session's hold on a mapping: the socket, and whether the session still owns it.
pub(crate) struct Claim {
    pub(crate) socket: Arc<UdpSocket>,
    /// `true` when the socket is dual-stack IPv6, `false` when it is IPv4 only.
    pub(crate) v6: bool,
    key: Option<MappingKey>,
    owner: u64,
    /// The budget of a socket without a global id, which only this session holds.
    _lease: Option<SocketLease>,
}

impl Default for XudpTable {
    fn default() -> Self {
        XudpTable {
            inner: Mutex::new(Inner {
                mappings: HashMap::new(),
                next_owner: 0,
                last_sweep: Instant::now(),
            }),
        }
    }
}

impl XudpTable {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The socket for `key`, taken over from an earlier session when there is one, or a new
    /// socket. Without a key (no global id) the socket belongs to this session alone. `lease`
    /// is the user's budget for a new socket: kept with it, or given back when an existing
    /// mapping is taken over.
    pub(crate) async fn claim(
        &self,
        key: Option<MappingKey>,
        lease: SocketLease,
    ) -> io::Result<Claim> {
        let Some(key) = key else {
            let (socket, v6) = bind_any().await?;
            return Ok(Claim {
                socket: Arc::new(socket),
                v6,
                key: None,
                owner: 0,
                _lease: Some(lease),
            });
        };
        {
            let mut inner = self.lock();
            inner.sweep();
            inner.next_owner += 1;
            let owner = inner.next_owner;
            if let Some(mapping) = inner.mappings.get_mut(&key) {
                mapping.owner = owner;
                mapping.parked_since = None;
                return Ok(Claim {
                    socket: mapping.socket.clone(),
                    v6: mapping.v6,
                    key: Some(key),
                    owner,
                    _lease: None,
                });
            }
        }
        let (socket, v6) = bind_any().await?;
        let socket = Arc::new(socket);
        let mut inner = self.lock();
        inner.next_owner += 1;
        let owner = inner.next_owner;
        // Another session may have bound one meanwhile; the newest claim wins either way.
        let mapping = inner.mappings.entry(key).or_insert(Mapping {
            socket,
            v6,
            owner,
            parked_since: None,
            _lease: lease,
        });
        mapping.owner = owner;
        mapping.parked_since = None;
        Ok(Claim {
            socket: mapping.socket.clone(),
            v6: mapping.v6,
            key: Some(key),
            owner,
            _lease: None,
        })
    }

    /// Whether `claim` still owns its socket (a newer session takes it over).
    pub(crate) fn owns(&self, claim: &Claim) -> bool {
        match claim.key {
            None => true,
            Some(key) => self
                .lock()
                .mappings
                .get(&key)
                .is_some_and(|m| m.owner == claim.owner),
        }
    }

    /// Ends a session's claim: its mapping is parked for [`PARK_TIME`] unless taken over.
    pub(crate) fn release(&self, claim: &Claim) {
        let Some(key) = claim.key else { return };
        let mut inner = self.lock();
        if let Some(mapping) = inner.mappings.get_mut(&key) {
            if mapping.owner == claim.owner {
                mapping.parked_since = Some(Instant::now());
            }
        }
        inner.sweep();
    }

    /// Forgets mappings parked longer than [`PARK_TIME`] (called every [`SWEEP_EVERY`] by the
    /// node, so parked sockets close even when no session comes).
    pub(crate) fn sweep(&self) {
        self.lock().sweep();
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().mappings.len()
    }
}

impl Inner {
    fn sweep(&mut self) {
        let now = Instant::now();
        if now.duration_since(self.last_sweep) < SWEEP_EVERY {
            return;
        }
        self.last_sweep = now;
        self.mappings.retain(|_, m| {
            m.parked_since
                .is_none_or(|since| now.duration_since(since) < PARK_TIME)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::budget::SocketBudget;

    const KEY: MappingKey = (vless::LookupKey([1; 16]), [2; 8]);

    fn lease(budget: &Arc<SocketBudget>) -> SocketLease {
        budget.take(vless::LookupKey([1; 16])).unwrap()
    }

    #[tokio::test]
    async fn a_mapping_holds_its_users_budget_until_it_is_forgotten() {
        let budget = SocketBudget::new(1, 10, crate::AccessTable::new());
        let table = XudpTable::default();
        let claim = table.claim(Some(KEY), lease(&budget)).await.unwrap();
        table.release(&claim);
        drop(claim);
        // Parked, the socket still counts: the user has no room for another.
        assert!(budget.take(vless::LookupKey([1; 16])).is_err());
        tokio::time::pause();
        tokio::time::advance(PARK_TIME + SWEEP_EVERY).await;
        table.sweep();
        assert_eq!(table.len(), 0);
        assert!(budget.take(vless::LookupKey([1; 16])).is_ok());
    }

    #[tokio::test]
    async fn a_returning_client_gets_the_same_port_and_the_old_session_loses_it() {
        let budget = SocketBudget::new(100, 100, crate::AccessTable::new());
        let table = XudpTable::default();
        let first = table.claim(Some(KEY), lease(&budget)).await.unwrap();
        let second = table.claim(Some(KEY), lease(&budget)).await.unwrap();
        assert_eq!(
            first.socket.local_addr().unwrap(),
            second.socket.local_addr().unwrap()
        );
        assert!(!table.owns(&first));
        assert!(table.owns(&second));
        // The old session ending does not park the mapping the new one uses.
        table.release(&first);
        assert!(table.owns(&second));
    }

    #[tokio::test]
    async fn another_user_with_the_same_global_id_gets_another_socket() {
        let budget = SocketBudget::new(100, 100, crate::AccessTable::new());
        let table = XudpTable::default();
        let mine = table.claim(Some(KEY), lease(&budget)).await.unwrap();
        let theirs = table
            .claim(Some((vless::LookupKey([9; 16]), KEY.1)), lease(&budget))
            .await
            .unwrap();
        assert_ne!(
            mine.socket.local_addr().unwrap(),
            theirs.socket.local_addr().unwrap()
        );
        assert!(table.owns(&mine) && table.owns(&theirs));
    }

    #[tokio::test(start_paused = true)]
    async fn a_parked_mapping_is_forgotten_after_the_park_time() {
        let budget = SocketBudget::new(100, 100, crate::AccessTable::new());
        let table = XudpTable::default();
        let claim = table.claim(Some(KEY), lease(&budget)).await.unwrap();
        let port = claim.socket.local_addr().unwrap();
        table.release(&claim);
        drop(claim);
        tokio::time::advance(Duration::from_secs(30)).await;
        let back = table.claim(Some(KEY), lease(&budget)).await.unwrap();
        assert_eq!(back.socket.local_addr().unwrap(), port);
        table.release(&back);
        tokio::time::advance(PARK_TIME + SWEEP_EVERY).await;
        let other = table
            .claim(Some((vless::LookupKey([3; 16]), [4; 8])), lease(&budget))
            .await
            .unwrap();
        assert_eq!(table.len(), 1, "only the new mapping is left");
        assert!(table.owns(&other));
    }

    #[tokio::test]
    async fn sessions_without_a_global_id_share_nothing() {
        let budget = SocketBudget::new(100, 100, crate::AccessTable::new());
        let table = XudpTable::default();
        let a = table.claim(None, lease(&budget)).await.unwrap();
        let b = table.claim(None, lease(&budget)).await.unwrap();
        assert_ne!(
            a.socket.local_addr().unwrap(),
            b.socket.local_addr().unwrap()
        );
        assert_eq!(table.len(), 0);
    }
}
