//! Which `milly serve` runs the jobs that must run once (bot long polling, the payment
//! reconciler, reminders, retention, backups) when several share one PostgreSQL: the one that
//! holds a session advisory lock. The lock lives on a connection taken out of the pool, so it
//! ends with that connection: when the leader process dies, PostgreSQL ends its session and
//! releases the lock, and another process takes it. SQLite serves one process: it always leads.

use sqlx::pool::PoolConnection;
use sqlx::{Any, Connection as _, Row as _};

use crate::{Backend, Store, StoreError};

/// The advisory lock's key: "milly" in ASCII, so it does not collide with other software's
/// locks on a shared database.
const LEADER_LOCK: i64 = 0x6d_69_6c_6c_79;

/// Held while this process leads. Dropping it gives leadership up (the connection closes).
pub struct LeaderLease {
    /// `None` on SQLite.
    connection: Option<sqlx::AnyConnection>,
}

impl std::fmt::Debug for LeaderLease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeaderLease").finish_non_exhaustive()
    }
}

impl Store {
    /// Leadership if no other process holds it; `None` if one does.
    pub async fn try_lead(&self) -> Result<Option<LeaderLease>, StoreError> {
        if self.backend == Backend::Sqlite {
            return Ok(Some(LeaderLease { connection: None }));
        }
        let mut connection: PoolConnection<Any> = self.pool.acquire().await?;
        let held: bool = sqlx::query("SELECT pg_try_advisory_lock($1) AS held")
            .bind(LEADER_LOCK)
            .fetch_one(&mut *connection)
            .await?
            .try_get("held")?;
        if !held {
            return Ok(None);
        }
        // Out of the pool, so no other query ever runs on the session that holds the lock and
        // the lock cannot outlive the lease.
        Ok(Some(LeaderLease {
            connection: Some(connection.detach()),
        }))
    }
}

impl LeaderLease {
    /// Whether the lease still holds: the session that holds the lock is alive.
    pub async fn still_held(&mut self) -> bool {
        match &mut self.connection {
            None => true,
            Some(connection) => connection.ping().await.is_ok(),
        }
    }

    /// Gives leadership up at once (instead of when the lease is dropped). The lock is
    /// unlocked before the connection closes: PostgreSQL frees a closed session's locks only
    /// when its backend has exited, a moment after the client has gone, and the next process
    /// to ask must not meet that moment.
    pub async fn release(self) {
        if let Some(mut connection) = self.connection {
            let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(LEADER_LOCK)
                .execute(&mut connection)
                .await;
            let _ = connection.close().await;
        }
    }
}
