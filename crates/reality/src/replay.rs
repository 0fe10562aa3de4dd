//! A small bounded memory of recently authenticated ClientHellos, to refuse replays.

use std::collections::{HashSet, VecDeque};

/// Remembers the last `capacity` replay keys ([`crate::Authenticated::replay_key`]).
///
/// A replayed hello older than the server's `max_time_diff` is already refused by its
/// timestamp, so the capacity needs to cover the hellos of one such window.
#[derive(Debug, Clone)]
pub struct ReplayFilter {
    capacity: usize,
    order: VecDeque<[u8; 16]>,
    seen: HashSet<[u8; 16]>,
}

impl ReplayFilter {
    /// A filter holding at most `capacity` keys (at least one).
    pub fn new(capacity: usize) -> ReplayFilter {
        let capacity = capacity.max(1);
        ReplayFilter {
            capacity,
            order: VecDeque::new(),
            seen: HashSet::new(),
        }
    }

    /// Records `key`; returns `false` if it was already seen (a replay).
    pub fn check_and_insert(&mut self, key: [u8; 16]) -> bool {
        if !self.seen.insert(key) {
            return false;
        }
        self.order.push_back(key);
        if self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        true
    }

    /// How many keys are remembered.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_seen_twice_is_a_replay() {
        let mut f = ReplayFilter::new(4);
        assert!(f.check_and_insert([1; 16]));
        assert!(!f.check_and_insert([1; 16]));
        assert!(f.check_and_insert([2; 16]));
    }

    #[test]
    fn the_oldest_keys_are_forgotten_beyond_capacity() {
        let mut f = ReplayFilter::new(2);
        for k in 1..=3u8 {
            assert!(f.check_and_insert([k; 16]));
        }
        assert_eq!(f.len(), 2);
        assert!(f.check_and_insert([1; 16]), "key 1 was evicted");
        assert!(!f.check_and_insert([3; 16]));
    }
}
