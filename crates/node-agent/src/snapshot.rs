//! A snapshot arriving in chunks: checked against what `SnapshotBegin` announced, built straight into a new table (no list of entries beside it), and handed to the node only when complete.

use feed_wire::{WireEntry, MAX_CHUNK_ENTRIES};
use node::{AccessEntry, TableBuilder};

/// A snapshot under way.
#[derive(Debug)]
pub(crate) struct Assembly {
    epoch: [u8; 16],
    revision: u64,
    total: u64,
    table: TableBuilder,
}

/// A whole snapshot, ready for [`node::AccessTable::install`].
#[derive(Debug)]
pub(crate) struct Complete {
    pub(crate) epoch: [u8; 16],
    pub(crate) revision: u64,
    pub(crate) table: TableBuilder,
}

pub(crate) fn entry(e: &WireEntry) -> AccessEntry {
    AccessEntry {
        key: vless::UserKey(e.key),
        expires_at: e.expires_at,
    }
}

impl Assembly {
    /// Reserves nothing up front, whatever `total` claims: the table grows as chunks arrive.
    pub(crate) fn begin(epoch: [u8; 16], revision: u64, total: u64) -> Self {
        Assembly {
            epoch,
            revision,
            total,
            table: TableBuilder::new(),
        }
    }

    /// Adds a chunk; more than a chunk may hold, or more than announced, is a protocol error.
    pub(crate) fn add(&mut self, chunk: &[WireEntry]) -> Result<(), &'static str> {
        if chunk.len() > MAX_CHUNK_ENTRIES {
            return Err("a snapshot chunk holds more than MAX_CHUNK_ENTRIES");
        }
        if self.table.inserted().saturating_add(chunk.len() as u64) > self.total {
            return Err("a snapshot holds more entries than it announced");
        }
        for e in chunk {
            self.table.insert(entry(e));
        }
        Ok(())
    }

    /// The complete snapshot.
    pub(crate) fn finish(self) -> Result<Complete, &'static str> {
        if self.table.inserted() != self.total {
            return Err("a snapshot ended before all the entries it announced");
        }
        Ok(Complete {
            epoch: self.epoch,
            revision: self.revision,
            table: self.table,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use node::AccessTable;

    fn wire(n: u8) -> WireEntry {
        WireEntry {
            key: [n; 16],
            expires_at: 1000 + i64::from(n),
        }
    }

    #[test]
    fn chunks_add_up_to_the_announced_snapshot() {
        let mut a = Assembly::begin([1; 16], 9, 3);
        a.add(&[wire(1), wire(2)]).unwrap();
        a.add(&[]).unwrap();
        a.add(&[wire(3)]).unwrap();
        let complete = a.finish().unwrap();
        assert_eq!((complete.epoch, complete.revision), ([1; 16], 9));
        let table = AccessTable::new();
        table.install(complete.revision, complete.table);
        assert_eq!((table.revision(), table.len()), (9, 3));
        for n in 1..=3 {
            let key = vless::UserKey([n; 16]);
            let ends = 1000 + i64::from(n);
            assert!(table.is_allowed(&key, ends - 1) && !table.is_allowed(&key, ends));
        }
    }

    #[test]
    fn more_or_fewer_entries_than_announced_or_an_oversized_chunk_are_refused() {
        let mut a = Assembly::begin([1; 16], 9, 1);
        assert!(a.add(&[wire(1), wire(2)]).is_err());
        assert!(Assembly::begin([1; 16], 9, 2).finish().is_err());
        let big = vec![wire(0); MAX_CHUNK_ENTRIES + 1];
        assert!(Assembly::begin([1; 16], 9, u64::MAX).add(&big).is_err());
    }
}
