//! The access feed for VLESS nodes: who may connect, as a snapshot or as changes since a
//! revision. Nodes never query the database; the control plane polls this and pushes to them.
//!
//! **Every transaction that changes who has access bumps `meta.access_revision` with a single-row
//! UPDATE**, which holds that row's lock until commit: revisions are handed out in commit order,
//! so a poller that has seen revision `r` has seen every change numbered `<= r`.
//!
//! Entries carry the subscription's end; nodes enforce `expires_at` themselves, because time
//! passing changes nothing in the store. Snapshots and changes therefore include expired
//! subscriptions (with a past `expires_at`); blocked users and users without a subscription are
//! left out of snapshots and reported as revoked in changes.

use domain::{from_unix_seconds, unix_seconds, UserId, VlessUuid};
use sqlx::any::AnyRow;
use sqlx::{Any, Row as _, Transaction};
use time::OffsetDateTime;

use crate::{Store, StoreError};

/// One credential a node should accept until `expires_at`, as the store reads it (the node's
/// own form is `node::AccessEntry`, which `milly` converts this into).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRow {
    pub vless_uuid: VlessUuid,
    pub expires_at: OffsetDateTime,
}

/// Everyone who may connect, as of `revision`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessSnapshot {
    pub revision: i64,
    pub entries: Vec<AccessRow>,
}

/// Rows per page when [`Store::access_snapshot`] collects the whole table.
const COLLECT_PAGE: usize = 8192;

/// The access table being read in pages inside one read transaction (REPEATABLE READ on
/// PostgreSQL, a deferred transaction's snapshot on SQLite), so every page belongs to
/// [`Self::revision`] and the caller holds one page at a time however many users there are.
/// Pages follow `credentials.user_id` (keyset pagination on the primary key: each page is
/// index range scans that start where the last page ended). The transaction, and its pooled
/// connection, is held until the last page has been read; dropping the reader earlier rolls
/// it back.
pub struct AccessSnapshotPages {
    tx: Option<Transaction<'static, Any>>,
    revision: i64,
    total: u64,
    /// The last `user_id` read: the next page starts after it.
    after: i64,
}

impl std::fmt::Debug for AccessSnapshotPages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessSnapshotPages")
            .field("revision", &self.revision)
            .field("total", &self.total)
            .field("open", &self.tx.is_some())
            .finish_non_exhaustive()
    }
}

impl AccessSnapshotPages {
    /// The revision every page belongs to.
    pub fn revision(&self) -> i64 {
        self.revision
    }

    /// How many entries the pages hold together.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The next at most `limit` entries (at least one is asked for), in `user_id` order; an
    /// empty page once every entry was read, which also ends the read transaction.
    ///
    /// Each page is two index range scans: the `limit`-th credential after the last page
    /// bounds the page, and the page's rows are read with that range on all three joined
    /// keys. (With only `user_id > after`, PostgreSQL merges `users` and `subscriptions` from
    /// their first row for every page, or hashes the whole tables.)
    pub async fn next_page(&mut self, limit: usize) -> Result<Vec<AccessRow>, StoreError> {
        let offset = i64::try_from(limit.max(1) - 1).unwrap_or(i64::MAX);
        loop {
            let Some(tx) = self.tx.as_mut() else {
                return Ok(Vec::new());
            };
            let bound = sqlx::query(
                "SELECT user_id FROM credentials WHERE user_id > $1 \
                 ORDER BY user_id LIMIT 1 OFFSET $2",
            )
            .bind(self.after)
            .bind(offset)
            .fetch_optional(&mut **tx)
            .await?;
            let upto = match &bound {
                Some(row) => row.try_get("user_id")?,
                None => i64::MAX,
            };
            let rows = sqlx::query(
                "SELECT credentials.vless_uuid, subscriptions.ends_at FROM credentials \
                 JOIN users ON users.id = credentials.user_id \
                 JOIN subscriptions ON subscriptions.user_id = credentials.user_id \
                 WHERE users.blocked = 0 \
                 AND credentials.user_id > $1 AND credentials.user_id <= $2 \
                 AND users.id > $1 AND users.id <= $2 \
                 AND subscriptions.user_id > $1 AND subscriptions.user_id <= $2 \
                 ORDER BY credentials.user_id",
            )
            .bind(self.after)
            .bind(upto)
            .fetch_all(&mut **tx)
            .await?;
            self.after = upto;
            if bound.is_none() {
                if let Some(tx) = self.tx.take() {
                    tx.commit().await?;
                }
            }
            let page = rows
                .iter()
                .map(|row| {
                    Ok(AccessRow {
                        vless_uuid: uuid_from_row(row)?,
                        expires_at: from_unix_seconds(row.try_get("ends_at")?),
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            // A range of blocked users or users without access only is skipped, not returned
            // empty (which would say the snapshot is over).
            if !page.is_empty() || self.tx.is_none() {
                return Ok(page);
            }
        }
    }
}

/// What changed after the revision a poller asked about, up to `revision`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessChanges {
    pub revision: i64,
    /// Credentials to add or whose end changed.
    pub upserts: Vec<AccessRow>,
    /// Credentials to drop (blocked, erased, rotated away, or never granted).
    pub revoked: Vec<VlessUuid>,
}

/// Takes the next access revision inside `tx`. Call it before reading anything the transaction
/// will write back: on PostgreSQL the row lock serializes such transactions.
pub(crate) async fn bump_revision(tx: &mut Transaction<'static, Any>) -> Result<i64, StoreError> {
    let row = sqlx::query(
        "UPDATE meta SET value = value + 1 WHERE key = 'access_revision' RETURNING value",
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get("value")?)
}

/// Stamps the user's credentials with `revision` so the change reaches the feed.
pub(crate) async fn mark_changed(
    tx: &mut Transaction<'static, Any>,
    user: UserId,
    revision: i64,
) -> Result<(), StoreError> {
    let changed = sqlx::query("UPDATE credentials SET access_revision = $1 WHERE user_id = $2")
        .bind(revision)
        .bind(user.0)
        .execute(&mut **tx)
        .await?;
    crate::users::expect_one(changed.rows_affected())
}

/// Remembers that `uuid` stopped granting access at `revision`.
pub(crate) async fn add_tombstone(
    tx: &mut Transaction<'static, Any>,
    uuid: &str,
    revision: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO access_tombstones (vless_uuid, revision, removed_at) VALUES ($1, $2, $3)",
    )
    .bind(uuid)
    .bind(revision)
    .bind(unix_seconds(OffsetDateTime::now_utc()))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn uuid_from_row(row: &AnyRow) -> Result<VlessUuid, StoreError> {
    let text: String = row.try_get("vless_uuid")?;
    text.parse().map_err(|_| StoreError::Corrupt("vless_uuid"))
}

async fn meta(tx: &mut Transaction<'static, Any>, key: &str) -> Result<i64, StoreError> {
    let row = sqlx::query("SELECT value FROM meta WHERE key = $1")
        .bind(key)
        .fetch_one(&mut **tx)
        .await?;
    Ok(row.try_get("value")?)
}

impl Store {
    /// The current access revision.
    pub async fn access_revision(&self) -> Result<i64, StoreError> {
        let mut tx = self.begin_read().await?;
        let revision = meta(&mut tx, "access_revision").await?;
        tx.commit().await?;
        Ok(revision)
    }

    /// Every credential that may connect, collected from [`Store::access_snapshot_pages`]
    /// (for callers that want the whole table in memory, such as tests).
    pub async fn access_snapshot(&self) -> Result<AccessSnapshot, StoreError> {
        let mut pages = self.access_snapshot_pages().await?;
        let mut entries = Vec::new();
        loop {
            let page = pages.next_page(COLLECT_PAGE).await?;
            if page.is_empty() {
                break;
            }
            entries.extend(page);
        }
        Ok(AccessSnapshot {
            revision: pages.revision(),
            entries,
        })
    }

    /// Every credential that may connect (not blocked, with a subscription), to be read page
    /// by page: all pages belong to one consistent read at [`AccessSnapshotPages::revision`].
    pub async fn access_snapshot_pages(&self) -> Result<AccessSnapshotPages, StoreError> {
        let mut tx = self.begin_read().await?;
        // Read first: on SQLite the deferred transaction's snapshot starts here.
        let revision = meta(&mut tx, "access_revision").await?;
        let row = sqlx::query(
            "SELECT COUNT(*) AS total FROM credentials \
             JOIN users ON users.id = credentials.user_id \
             JOIN subscriptions ON subscriptions.user_id = credentials.user_id \
             WHERE users.blocked = 0",
        )
        .fetch_one(&mut *tx)
        .await?;
        let total: i64 = row.try_get("total")?;
        Ok(AccessSnapshotPages {
            tx: Some(tx),
            revision,
            total: u64::try_from(total).unwrap_or(0),
            after: i64::MIN,
        })
    }

    /// What changed after `since`, if at most `at_most` credentials did. `None` when the
    /// store cannot tell — `since` predates pruned tombstones or is ahead of the store (e.g.
    /// after a restore) — or when more changed than `at_most` (reading them all would cost
    /// more memory than a snapshot's pages): the caller takes a snapshot instead.
    pub async fn access_changes_since(
        &self,
        since: i64,
        at_most: usize,
    ) -> Result<Option<AccessChanges>, StoreError> {
        let mut tx = self.begin_read().await?;
        let revision = meta(&mut tx, "access_revision").await?;
        let horizon = meta(&mut tx, "access_horizon").await?;
        if since > revision || since < horizon {
            tx.commit().await?;
            return Ok(None);
        }
        // One row past the limit on each side tells "too many" without reading them all.
        let one_more = i64::try_from(at_most.saturating_add(1)).unwrap_or(i64::MAX);
        let changed = sqlx::query(
            "SELECT credentials.vless_uuid, users.blocked, subscriptions.ends_at FROM credentials \
             JOIN users ON users.id = credentials.user_id \
             LEFT JOIN subscriptions ON subscriptions.user_id = credentials.user_id \
             WHERE credentials.access_revision > $1 ORDER BY credentials.access_revision \
             LIMIT $2",
        )
        .bind(since)
        .bind(one_more)
        .fetch_all(&mut *tx)
        .await?;
        let removed = sqlx::query(
            "SELECT vless_uuid FROM access_tombstones WHERE revision > $1 ORDER BY revision \
             LIMIT $2",
        )
        .bind(since)
        .bind(one_more)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        if changed.len() + removed.len() > at_most {
            return Ok(None);
        }

        let mut changes = AccessChanges {
            revision,
            upserts: Vec::new(),
            revoked: Vec::new(),
        };
        for row in &changed {
            let uuid = uuid_from_row(row)?;
            let blocked: i64 = row.try_get("blocked")?;
            let ends_at: Option<i64> = row.try_get("ends_at")?;
            match ends_at {
                Some(ends_at) if blocked == 0 => changes.upserts.push(AccessRow {
                    vless_uuid: uuid,
                    expires_at: from_unix_seconds(ends_at),
                }),
                _ => changes.revoked.push(uuid),
            }
        }
        for row in &removed {
            changes.revoked.push(uuid_from_row(row)?);
        }
        Ok(Some(changes))
    }

    /// Forgets revoked credentials recorded before `older_than`; pollers behind the newest
    /// pruned revision then get `None` from [`Store::access_changes_since`]. Returns how many
    /// were pruned.
    pub async fn prune_access_tombstones(
        &self,
        older_than: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let cutoff = unix_seconds(older_than);
        let newest = sqlx::query(
            "SELECT revision FROM access_tombstones WHERE removed_at < $1 \
             ORDER BY revision DESC LIMIT 1",
        )
        .bind(cutoff)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(newest) = newest else {
            return Ok(0);
        };
        let newest: i64 = newest.try_get("revision")?;
        let pruned = sqlx::query("DELETE FROM access_tombstones WHERE revision <= $1")
            .bind(newest)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE meta SET value = $1 WHERE key = 'access_horizon' AND value < $1")
            .bind(newest)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(pruned.rows_affected())
    }
}
