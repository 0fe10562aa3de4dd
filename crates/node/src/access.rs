//! The access table: who may connect, fed by the control plane, and the cutting of live sessions.
//!
//! The table is split into shards, each an immutable `HashMap` behind an `ArcSwap`: a lookup is
//! one atomic load and one hash probe, without locks; an update clones only the shards it
//! touches; a whole new table (a snapshot) is filled in a [`TableBuilder`] and installed at
//! once. Users are keyed by their id with bytes 6–7 zeroed, as Xray does (clients may carry
//! a route value there). Live connections register under their user; when the user disappears
//! or expires, one cancellation cuts all of them, and nobody else's.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use subtle::ConstantTimeEq;
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};
use vless::{LookupKey, UserKey};

/// How often expiry of users with open connections is checked.
pub const EXPIRY_TICK: Duration = Duration::from_millis(250);
const SHARDS: usize = 256;

/// One allowed user: the full 16-byte VLESS id and when access ends (unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessEntry {
    pub key: UserKey,
    pub expires_at: i64,
}

/// What the control plane pushes: a full table, or the changes since the previous revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessUpdate {
    Snapshot {
        revision: u64,
        entries: Vec<AccessEntry>,
    },
    Changes {
        revision: u64,
        upserts: Vec<AccessEntry>,
        revoked: Vec<UserKey>,
    },
}

/// What [`AccessTable::apply`] did with an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The table now reflects the update.
    Applied,
    /// The update's revision is not newer than the table's; nothing changed.
    Stale,
}

/// A whole table being filled — a snapshot arriving in chunks, or one read from a cache — that
/// [`AccessTable::install`] puts in place at once. Entries go straight into the shards the
/// table will use, so filling it costs the table itself and no list of entries beside it.
pub struct TableBuilder {
    shards: Vec<Shard>,
    inserted: u64,
}

impl Default for TableBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for TableBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print ids.
        f.debug_struct("TableBuilder")
            .field("inserted", &self.inserted)
            .finish_non_exhaustive()
    }
}

impl TableBuilder {
    pub fn new() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Shard::new()).collect(),
            inserted: 0,
        }
    }

    /// Adds one user (a later entry for the same user replaces the earlier one).
    pub fn insert(&mut self, entry: AccessEntry) {
        let key = entry.key.lookup_key();
        self.shards[shard_of(&key)].insert(key, entry.expires_at);
        self.inserted += 1;
    }

    /// How many entries were inserted, repeats included: what a sender's count is checked
    /// against.
    pub fn inserted(&self) -> u64 {
        self.inserted
    }
}

impl FromIterator<AccessEntry> for TableBuilder {
    fn from_iter<I: IntoIterator<Item = AccessEntry>>(entries: I) -> Self {
        let mut table = TableBuilder::new();
        for entry in entries {
            table.insert(entry);
        }
        table
    }
}

/// The table as it was at one revision, for writing it out (e.g. a node's cache) without
/// copying it: it shares the table's shards, which updates replace rather than change.
pub struct TableView {
    revision: u64,
    shards: Vec<Arc<Shard>>,
}

impl std::fmt::Debug for TableView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print ids.
        f.debug_struct("TableView")
            .field("revision", &self.revision)
            .finish_non_exhaustive()
    }
}

impl TableView {
    pub fn revision(&self) -> u64 {
        self.revision
    }

    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every entry, keys in the table's lookup form (bytes 6–7 zeroed), which authorizes
    /// exactly the same users when applied again.
    pub fn entries(&self) -> impl Iterator<Item = AccessEntry> + '_ {
        self.shards.iter().flat_map(|shard| {
            shard.iter().map(|(key, expires_at)| AccessEntry {
                key: UserKey(key.0),
                expires_at: *expires_at,
            })
        })
    }
}

fn shard_of(LookupKey(key): &LookupKey) -> usize {
    // User ids are random; two of their bytes spread users evenly over the shards.
    usize::from(key[0] ^ key[15]) % SHARDS
}

/// Seconds since the Unix epoch, as the control plane writes `expires_at`.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

type Shard = HashMap<LookupKey, i64>;
type LiveShard = Mutex<HashMap<LookupKey, Live>>;

/// Connections of one user that are open right now.
struct Live {
    generation: u64,
    cut: CancellationToken,
    connections: usize,
}

struct Inner {
    shards: Box<[ArcSwap<Shard>]>,
    live: Box<[LiveShard]>,
    revision: AtomicU64,
    /// Serialises writers; readers never take it.
    writer: Mutex<()>,
    generations: AtomicU64,
}

/// The shared table of allowed users. Cloning is cheap; all clones see the same table.
#[derive(Clone)]
pub struct AccessTable {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for AccessTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print ids.
        f.debug_struct("AccessTable")
            .field("revision", &self.revision())
            .finish_non_exhaustive()
    }
}

impl Default for AccessTable {
    fn default() -> Self {
        Self::new()
    }
}

/// A live connection's permission: registered under its user until dropped, and cut when the
/// user loses access.
pub struct Grant {
    inner: Arc<Inner>,
    key: LookupKey,
    generation: u64,
    cut: CancellationToken,
}

impl Grant {
    /// Completes when the user is revoked or expires.
    pub fn cut(&self) -> WaitForCancellationFuture<'_> {
        self.cut.cancelled()
    }

    /// Whether the user has lost access.
    pub fn is_cut(&self) -> bool {
        self.cut.is_cancelled()
    }
}

impl Drop for Grant {
    fn drop(&mut self) {
        let mut live = lock(&self.inner.live[shard_of(&self.key)]);
        if let Some(entry) = live.get_mut(&self.key) {
            if entry.generation == self.generation {
                entry.connections -= 1;
                if entry.connections == 0 {
                    live.remove(&self.key);
                }
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind; keep serving.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl AccessTable {
    /// An empty table at revision 0: nobody may connect.
    pub fn new() -> Self {
        let shards = (0..SHARDS)
            .map(|_| ArcSwap::from_pointee(Shard::new()))
            .collect();
        let live = (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect();
        Self {
            inner: Arc::new(Inner {
                shards,
                live,
                revision: AtomicU64::new(0),
                writer: Mutex::new(()),
                generations: AtomicU64::new(0),
            }),
        }
    }

    /// The revision of the last applied update.
    pub fn revision(&self) -> u64 {
        self.inner.revision.load(Ordering::Acquire)
    }

    /// Number of allowed users (including expired ones not yet removed by the control plane).
    pub fn len(&self) -> usize {
        self.inner.shards.iter().map(|s| s.load().len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Applies an update from the control plane, then cuts the open connections of every user
    /// it removed. A snapshot always applies; changes apply only when newer than the table.
    pub fn apply(&self, update: AccessUpdate) -> Applied {
        let _writer = lock(&self.inner.writer);
        match update {
            AccessUpdate::Snapshot { revision, entries } => {
                self.replace(revision, entries.into_iter().collect());
            }
            AccessUpdate::Changes {
                revision,
                upserts,
                revoked,
            } => {
                if revision <= self.revision() {
                    return Applied::Stale;
                }
                let mut touched: HashMap<usize, Shard> = HashMap::new();
                for key in revoked {
                    let key = key.lookup_key();
                    self.shard_copy(&mut touched, &key).remove(&key);
                }
                for entry in upserts {
                    let key = entry.key.lookup_key();
                    self.shard_copy(&mut touched, &key)
                        .insert(key, entry.expires_at);
                }
                for (index, map) in touched {
                    self.inner.shards[index].store(Arc::new(map));
                }
                self.inner.revision.store(revision, Ordering::Release);
            }
        }
        self.sweep(unix_now());
        Applied::Applied
    }

    /// Puts a whole new table in place at `revision` (a snapshot always applies), then cuts
    /// the open connections of every user it no longer has.
    pub fn install(&self, revision: u64, table: TableBuilder) {
        let _writer = lock(&self.inner.writer);
        self.replace(revision, table);
        self.sweep(unix_now());
    }

    /// Swaps in every shard of `table`; the caller holds the writers' lock. Each old shard is
    /// freed as soon as no lookup holds it.
    fn replace(&self, revision: u64, table: TableBuilder) {
        for (slot, shard) in self.inner.shards.iter().zip(table.shards) {
            slot.store(Arc::new(shard));
        }
        self.inner.revision.store(revision, Ordering::Release);
    }

    /// The writable copy of `key`'s shard within one update, cloned on first use.
    fn shard_copy<'t>(
        &self,
        touched: &'t mut HashMap<usize, Shard>,
        key: &LookupKey,
    ) -> &'t mut Shard {
        let index = shard_of(key);
        touched
            .entry(index)
            .or_insert_with(|| Shard::clone(&self.inner.shards[index].load()))
    }

    /// Whether `id` may connect at `now` (unix seconds).
    pub fn is_allowed(&self, id: &UserKey, now: i64) -> bool {
        let key = id.lookup_key();
        let shard = self.inner.shards[shard_of(&key)].load();
        match shard.get_key_value(&key) {
            // The probe found the key; confirm it without a data-dependent early exit.
            Some((stored, expires_at)) => bool::from(stored.0.ct_eq(&key.0)) && *expires_at > now,
            None => false,
        }
    }

    /// Registers a connection of `id` and returns its grant, or `None` if `id` may not connect.
    pub fn authorize(&self, id: &UserKey, now: i64) -> Option<Grant> {
        if !self.is_allowed(id, now) {
            return None;
        }
        let key = id.lookup_key();
        let grant = {
            let mut live = lock(&self.inner.live[shard_of(&key)]);
            let entry = live.entry(key).or_insert_with(|| Live {
                generation: self.inner.generations.fetch_add(1, Ordering::Relaxed),
                cut: CancellationToken::new(),
                connections: 0,
            });
            entry.connections += 1;
            Grant {
                inner: self.inner.clone(),
                key,
                generation: entry.generation,
                cut: entry.cut.clone(),
            }
        };
        // Checked again after registering: an update that raced with us either is seen here or
        // its sweep sees our registration.
        if self.is_allowed(id, now) {
            Some(grant)
        } else {
            None
        }
    }

    /// Cuts the connections of every user who is no longer allowed at `now`.
    pub fn sweep(&self, now: i64) {
        for (index, slot) in self.inner.live.iter().enumerate() {
            let mut live = lock(slot);
            if live.is_empty() {
                continue;
            }
            let table = self.inner.shards[index].load();
            live.retain(|key, entry| {
                let allowed = table.get(key).is_some_and(|expires_at| *expires_at > now);
                if !allowed {
                    entry.cut.cancel();
                }
                allowed
            });
        }
    }

    /// The revision and every shard, taken together under the writers' lock (so no update is
    /// half seen), for a node that keeps its table on disk. Nothing is copied: the view
    /// shares the shards, and later updates swap in new ones.
    pub fn view(&self) -> TableView {
        let _writer = lock(&self.inner.writer);
        TableView {
            revision: self.revision(),
            shards: self.inner.shards.iter().map(|s| s.load_full()).collect(),
        }
    }

    /// Users with at least one open connection.
    pub fn live_users(&self) -> usize {
        self.inner.live.iter().map(|s| lock(s).len()).sum()
    }

    /// Checks expiry every [`EXPIRY_TICK`] and cuts expired users' connections, until `stop`.
    pub async fn enforce_expiry(self, stop: CancellationToken) {
        let mut tick = tokio::time::interval(EXPIRY_TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tick.tick() => self.sweep(unix_now()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAR: i64 = i64::MAX;

    fn id(n: u64) -> UserKey {
        let mut key = [0u8; 16];
        key[..8].copy_from_slice(&n.to_le_bytes());
        key[8..].copy_from_slice(&n.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_be_bytes());
        UserKey(key)
    }

    fn snapshot(revision: u64, ids: &[UserKey]) -> AccessUpdate {
        AccessUpdate::Snapshot {
            revision,
            entries: ids
                .iter()
                .map(|k| AccessEntry {
                    key: *k,
                    expires_at: FAR,
                })
                .collect(),
        }
    }

    #[test]
    fn an_empty_table_allows_nobody() {
        assert!(!AccessTable::new().is_allowed(&id(1), 0));
    }

    #[test]
    fn users_are_matched_ignoring_bytes_six_and_seven() {
        let table = AccessTable::new();
        table.apply(snapshot(1, &[id(1)]));
        let mut routed = id(1);
        routed.0[6] ^= 0xff;
        routed.0[7] ^= 0x0f;
        assert!(table.is_allowed(&routed, 0));
        let mut other = id(1);
        other.0[5] ^= 1;
        assert!(!table.is_allowed(&other, 0));
    }

    #[test]
    fn an_expired_user_is_not_allowed() {
        let table = AccessTable::new();
        table.apply(AccessUpdate::Snapshot {
            revision: 1,
            entries: vec![AccessEntry {
                key: id(1),
                expires_at: 100,
            }],
        });
        assert!(table.is_allowed(&id(1), 99));
        assert!(!table.is_allowed(&id(1), 100));
    }

    #[test]
    fn changes_add_extend_and_revoke_users() {
        let table = AccessTable::new();
        table.apply(snapshot(1, &[id(1), id(2)]));
        let outcome = table.apply(AccessUpdate::Changes {
            revision: 2,
            upserts: vec![AccessEntry {
                key: id(3),
                expires_at: FAR,
            }],
            revoked: vec![id(1)],
        });
        assert_eq!(outcome, Applied::Applied);
        assert!(!table.is_allowed(&id(1), 0));
        assert!(table.is_allowed(&id(2), 0));
        assert!(table.is_allowed(&id(3), 0));
        assert_eq!(table.revision(), 2);
        assert_eq!(table.len(), 2);
    }

    #[test]
    fn a_viewed_table_installed_elsewhere_allows_the_same_users_at_the_same_revision() {
        let table = AccessTable::new();
        table.apply(snapshot(1, &[id(1), id(2), id(3)]));
        table.apply(AccessUpdate::Changes {
            revision: 4,
            upserts: vec![AccessEntry {
                key: id(9),
                expires_at: 50,
            }],
            revoked: vec![id(2)],
        });
        let view = table.view();
        assert_eq!((view.revision(), view.len()), (4, 3));
        let copy = AccessTable::new();
        copy.install(view.revision(), view.entries().collect());
        assert_eq!(copy.revision(), 4);
        for n in [1, 3] {
            assert!(copy.is_allowed(&id(n), 0));
        }
        assert!(!copy.is_allowed(&id(2), 0));
        assert!(copy.is_allowed(&id(9), 49) && !copy.is_allowed(&id(9), 50));
    }

    #[test]
    fn changes_older_than_the_table_are_ignored() {
        let table = AccessTable::new();
        table.apply(snapshot(5, &[id(1)]));
        let outcome = table.apply(AccessUpdate::Changes {
            revision: 5,
            upserts: vec![],
            revoked: vec![id(1)],
        });
        assert_eq!(outcome, Applied::Stale);
        assert!(table.is_allowed(&id(1), 0));
    }

    #[test]
    fn a_snapshot_replaces_the_whole_table() {
        let table = AccessTable::new();
        table.apply(snapshot(1, &[id(1)]));
        table.apply(snapshot(2, &[id(2)]));
        assert!(!table.is_allowed(&id(1), 0));
        assert!(table.is_allowed(&id(2), 0));
    }

    #[test]
    fn a_million_users_load_and_each_is_found() {
        let table = AccessTable::new();
        let ids: Vec<UserKey> = (0..1_000_000).map(id).collect();
        table.apply(snapshot(1, &ids));
        assert_eq!(table.len(), 1_000_000);
        for k in ids.iter().step_by(997) {
            assert!(table.is_allowed(k, 0));
        }
        assert!(!table.is_allowed(&id(2_000_000), 0));
        table.apply(AccessUpdate::Changes {
            revision: 2,
            upserts: vec![],
            revoked: vec![ids[10]],
        });
        assert!(!table.is_allowed(&ids[10], 0));
        assert!(table.is_allowed(&ids[11], 0));
    }

    #[test]
    fn revoking_a_user_cuts_their_grants_and_no_one_elses() {
        let table = AccessTable::new();
        table.apply(snapshot(1, &[id(1), id(2)]));
        let a1 = table.authorize(&id(1), 0).unwrap();
        let a2 = table.authorize(&id(1), 0).unwrap();
        let b = table.authorize(&id(2), 0).unwrap();
        assert_eq!(table.live_users(), 2);
        table.apply(AccessUpdate::Changes {
            revision: 2,
            upserts: vec![],
            revoked: vec![id(1)],
        });
        assert!(a1.is_cut() && a2.is_cut());
        assert!(!b.is_cut());
        assert!(table.authorize(&id(1), 0).is_none());
    }

    #[test]
    fn a_user_missing_from_a_new_snapshot_is_cut() {
        let table = AccessTable::new();
        table.apply(snapshot(1, &[id(1), id(2)]));
        let a = table.authorize(&id(1), 0).unwrap();
        let b = table.authorize(&id(2), 0).unwrap();
        table.apply(snapshot(2, &[id(2)]));
        assert!(a.is_cut());
        assert!(!b.is_cut());
    }

    #[test]
    fn a_sweep_after_expiry_cuts_only_the_expired_user() {
        let table = AccessTable::new();
        table.apply(AccessUpdate::Snapshot {
            revision: 1,
            entries: vec![
                AccessEntry {
                    key: id(1),
                    expires_at: 100,
                },
                AccessEntry {
                    key: id(2),
                    expires_at: 200,
                },
            ],
        });
        let a = table.authorize(&id(1), 50).unwrap();
        let b = table.authorize(&id(2), 50).unwrap();
        table.sweep(150);
        assert!(a.is_cut());
        assert!(!b.is_cut());
    }

    #[test]
    fn a_user_who_comes_back_gets_a_fresh_grant_that_is_not_cut() {
        let table = AccessTable::new();
        table.apply(snapshot(1, &[id(1)]));
        let old = table.authorize(&id(1), 0).unwrap();
        table.apply(snapshot(2, &[]));
        table.apply(snapshot(3, &[id(1)]));
        let new = table.authorize(&id(1), 0).unwrap();
        assert!(old.is_cut());
        assert!(!new.is_cut());
        drop(old);
        assert_eq!(table.live_users(), 1);
        drop(new);
        assert_eq!(table.live_users(), 0);
    }

    #[test]
    fn extending_a_user_keeps_their_connections_open() {
        let table = AccessTable::new();
        table.apply(snapshot(1, &[id(1)]));
        let grant = table.authorize(&id(1), 0).unwrap();
        table.apply(AccessUpdate::Changes {
            revision: 2,
            upserts: vec![AccessEntry {
                key: id(1),
                expires_at: FAR - 1,
            }],
            revoked: vec![],
        });
        assert!(!grant.is_cut());
    }

    #[test]
    fn a_view_keeps_its_revision_while_the_table_moves_on() {
        let table = AccessTable::new();
        table.apply(snapshot(1, &[id(1), id(2)]));
        let view = table.view();
        table.apply(AccessUpdate::Changes {
            revision: 2,
            upserts: vec![],
            revoked: vec![id(1)],
        });
        assert_eq!((view.revision(), view.len()), (1, 2));
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn an_installed_table_replaces_the_old_one_and_cuts_who_is_gone() {
        let table = AccessTable::new();
        table.apply(snapshot(1, &[id(1), id(2)]));
        let gone = table.authorize(&id(1), 0).unwrap();
        let mut next = TableBuilder::new();
        for n in [2, 3, 3] {
            next.insert(AccessEntry {
                key: id(n),
                expires_at: FAR,
            });
        }
        assert_eq!(next.inserted(), 3, "repeats are counted");
        table.install(7, next);
        assert_eq!((table.revision(), table.len()), (7, 2));
        assert!(gone.is_cut());
        assert!(!table.is_allowed(&id(1), 0) && table.is_allowed(&id(3), 0));
    }
}
