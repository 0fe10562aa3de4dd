//! A snapshot arriving in chunks: checked against what `SnapshotBegin` announced, and handed to the table only when complete.

use feed_wire::{WireEntry, MAX_CHUNK_ENTRIES};
use node::{AccessEntry, AccessUpdate};

/// Most entries reserved up front, whatever `total` claims (the rest grows as chunks arrive).
const MAX_PREALLOCATED: u64 = 1 << 16;

/// A snapshot under way.
#[derive(Debug)]
pub(crate) struct Assembly {
    epoch: [u8; 16],
    revision: u64,
    total: u64,
    entries: Vec<AccessEntry>,
}

pub(crate) fn entry(e: &WireEntry) -> AccessEntry {
    AccessEntry {
        key: vless::UserKey(e.key),
        expires_at: e.expires_at,
    }
}

impl Assembly {
    pub(crate) fn begin(epoch: [u8; 16], revision: u64, total: u64) -> Self {
        Assembly {
            epoch,
            revision,
            total,
            entries: Vec::with_capacity(total.min(MAX_PREALLOCATED) as usize),
        }
    }

    /// Adds a chunk; more than a chunk may hold, or more than announced, is a protocol error.
    pub(crate) fn add(&mut self, chunk: &[WireEntry]) -> Result<(), &'static str> {
        if chunk.len() > MAX_CHUNK_ENTRIES {
            return Err("a snapshot chunk holds more than MAX_CHUNK_ENTRIES");
        }
        if self.entries.len() as u64 + chunk.len() as u64 > self.total {
            return Err("a snapshot holds more entries than it announced");
        }
        self.entries.extend(chunk.iter().map(entry));
        Ok(())
    }

    /// The complete snapshot: its epoch and the update that replaces the table.
    pub(crate) fn finish(self) -> Result<([u8; 16], AccessUpdate), &'static str> {
        if self.entries.len() as u64 != self.total {
            return Err("a snapshot ended before all the entries it announced");
        }
        Ok((
            self.epoch,
            AccessUpdate::Snapshot {
                revision: self.revision,
                entries: self.entries,
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(n: u8) -> WireEntry {
        WireEntry {
            key: [n; 16],
            expires_at: i64::from(n),
        }
    }

    #[test]
    fn chunks_add_up_to_the_announced_snapshot() {
        let mut a = Assembly::begin([1; 16], 9, 3);
        a.add(&[wire(1), wire(2)]).unwrap();
        a.add(&[]).unwrap();
        a.add(&[wire(3)]).unwrap();
        let (epoch, update) = a.finish().unwrap();
        assert_eq!(epoch, [1; 16]);
        let AccessUpdate::Snapshot { revision, entries } = update else {
            panic!("a snapshot")
        };
        assert_eq!(revision, 9);
        assert_eq!(
            entries.iter().map(|e| e.expires_at).collect::<Vec<_>>(),
            [1, 2, 3]
        );
    }

    #[test]
    fn more_or_fewer_entries_than_announced_or_an_oversized_chunk_are_refused() {
        let mut a = Assembly::begin([1; 16], 9, 1);
        assert!(a.add(&[wire(1), wire(2)]).is_err());
        assert!(Assembly::begin([1; 16], 9, 2).finish().is_err());
        let big = vec![wire(0); MAX_CHUNK_ENTRIES + 1];
        assert!(Assembly::begin([1; 16], 9, u64::MAX).add(&big).is_err());
    }

    #[test]
    fn a_huge_announced_total_reserves_only_a_bounded_amount() {
        let a = Assembly::begin([1; 16], 9, u64::MAX);
        assert!(a.entries.capacity() as u64 <= MAX_PREALLOCATED);
    }
}
