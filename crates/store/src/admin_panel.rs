//! The admin web panel's records: one-time login links (claimed by one conditional update),
//! sessions (kept as hashes, touched on use, ended at sign-out or expiry) and the audit list.

use domain::{from_unix_seconds, unix_seconds, AdminAction, AdminTokenHash, TelegramId};
use sqlx::Row as _;
use time::OffsetDateTime;

use crate::{Store, StoreError};

/// What an audit entry's target is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditTarget {
    User(i64),
    Payment(i64),
    Node(i64),
    Broadcast(i64),
}

impl AuditTarget {
    fn parts(self) -> (&'static str, i64) {
        match self {
            AuditTarget::User(id) => ("user", id),
            AuditTarget::Payment(id) => ("payment", id),
            AuditTarget::Node(id) => ("node", id),
            AuditTarget::Broadcast(id) => ("broadcast", id),
        }
    }

    fn from_parts(kind: &str, id: i64) -> Option<Self> {
        match kind {
            "user" => Some(AuditTarget::User(id)),
            "payment" => Some(AuditTarget::Payment(id)),
            "node" => Some(AuditTarget::Node(id)),
            "broadcast" => Some(AuditTarget::Broadcast(id)),
            _ => None,
        }
    }
}

/// One line of the audit list: who did what to which internal id, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    pub at: OffsetDateTime,
    pub admin: TelegramId,
    pub action: AdminAction,
    pub target: Option<AuditTarget>,
}

impl Store {
    /// Records a login link for the admin `telegram_id`, valid until `expires_at`.
    pub async fn issue_admin_login(
        &self,
        hash: &AdminTokenHash,
        telegram_id: TelegramId,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO admin_login_tokens (token_hash, telegram_id, created_at, expires_at, \
             used_at) VALUES ($1, $2, $3, $4, NULL)",
        )
        .bind(hash.as_str())
        .bind(telegram_id.0)
        .bind(unix_seconds(now))
        .bind(unix_seconds(expires_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Uses the login link once: the admin it was issued to, or `None` when it is unknown,
    /// expired or already used. One conditional update, so two racing claims get one winner.
    pub async fn claim_admin_login(
        &self,
        hash: &AdminTokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<TelegramId>, StoreError> {
        let row = sqlx::query(
            "UPDATE admin_login_tokens SET used_at = $2 \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 \
             RETURNING telegram_id",
        )
        .bind(hash.as_str())
        .bind(unix_seconds(now))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok(TelegramId(r.try_get("telegram_id")?)))
            .transpose()
    }

    /// Records a panel session of `telegram_id` that ends at `expires_at` at the latest.
    pub async fn create_admin_session(
        &self,
        hash: &AdminTokenHash,
        telegram_id: TelegramId,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO admin_sessions (token_hash, telegram_id, created_at, last_seen_at, \
             expires_at) VALUES ($1, $2, $3, $3, $4)",
        )
        .bind(hash.as_str())
        .bind(telegram_id.0)
        .bind(unix_seconds(now))
        .bind(unix_seconds(expires_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The admin of a live session, marking it used at `now`; `None` when the session is
    /// unknown, ended, past its end or idle since `idle_cutoff` or before.
    pub async fn touch_admin_session(
        &self,
        hash: &AdminTokenHash,
        now: OffsetDateTime,
        idle_cutoff: OffsetDateTime,
    ) -> Result<Option<TelegramId>, StoreError> {
        let row = sqlx::query(
            "UPDATE admin_sessions SET last_seen_at = $2 \
             WHERE token_hash = $1 AND expires_at > $2 AND last_seen_at > $3 \
             RETURNING telegram_id",
        )
        .bind(hash.as_str())
        .bind(unix_seconds(now))
        .bind(unix_seconds(idle_cutoff))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok(TelegramId(r.try_get("telegram_id")?)))
            .transpose()
    }

    /// Ends a session (sign-out); returns whether there was one.
    pub async fn end_admin_session(&self, hash: &AdminTokenHash) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM admin_sessions WHERE token_hash = $1")
            .bind(hash.as_str())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Deletes login links expired at `now` and sessions past their end or idle since
    /// `idle_cutoff`; returns how many rows went.
    pub async fn purge_admin_sign_ins(
        &self,
        now: OffsetDateTime,
        idle_cutoff: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let links = sqlx::query("DELETE FROM admin_login_tokens WHERE expires_at <= $1")
            .bind(unix_seconds(now))
            .execute(&self.pool)
            .await?;
        let sessions =
            sqlx::query("DELETE FROM admin_sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
                .bind(unix_seconds(now))
                .bind(unix_seconds(idle_cutoff))
                .execute(&self.pool)
                .await?;
        Ok(links.rows_affected() + sessions.rows_affected())
    }

    /// How many rows [`Store::purge_admin_sign_ins`] would delete.
    pub async fn count_expired_admin_sign_ins(
        &self,
        now: OffsetDateTime,
        idle_cutoff: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM admin_login_tokens WHERE expires_at <= $1) + \
             (SELECT COUNT(*) FROM admin_sessions WHERE expires_at <= $1 OR last_seen_at <= $2) \
             AS n",
        )
        .bind(unix_seconds(now))
        .bind(unix_seconds(idle_cutoff))
        .fetch_one(&self.pool)
        .await?;
        let n: i64 = row.try_get("n")?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// How many audit entries [`Store::purge_audit`] would delete.
    pub async fn count_audit_before(&self, cutoff: OffsetDateTime) -> Result<u64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM admin_audit WHERE at < $1")
            .bind(unix_seconds(cutoff))
            .fetch_one(&self.pool)
            .await?;
        let n: i64 = row.try_get("n")?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Appends one line to the audit list.
    pub async fn record_audit(
        &self,
        at: OffsetDateTime,
        admin: TelegramId,
        action: AdminAction,
        target: Option<AuditTarget>,
    ) -> Result<(), StoreError> {
        let (kind, id) = match target.map(AuditTarget::parts) {
            Some((kind, id)) => (Some(kind), Some(id)),
            None => (None, None),
        };
        sqlx::query(
            "INSERT INTO admin_audit (at, admin_telegram_id, action, target_kind, target_id) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(unix_seconds(at))
        .bind(admin.0)
        .bind(action.code())
        .bind(kind)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Up to `limit` audit entries older than entry `before` (all when `None`), newest first.
    pub async fn audit_entries(
        &self,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at, admin_telegram_id, action, target_kind, target_id FROM admin_audit \
             WHERE id < $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let action: String = row.try_get("action")?;
                let kind: Option<String> = row.try_get("target_kind")?;
                let target_id: Option<i64> = row.try_get("target_id")?;
                let target = match (kind, target_id) {
                    (Some(kind), Some(id)) => Some(
                        AuditTarget::from_parts(&kind, id)
                            .ok_or(StoreError::Corrupt("admin_audit.target_kind"))?,
                    ),
                    _ => None,
                };
                Ok(AuditEntry {
                    id: row.try_get("id")?,
                    at: from_unix_seconds(row.try_get("at")?),
                    admin: TelegramId(row.try_get("admin_telegram_id")?),
                    action: AdminAction::from_code(&action)
                        .ok_or(StoreError::Corrupt("admin_audit.action"))?,
                    target,
                })
            })
            .collect()
    }

    /// When the admin `admin` did what, oldest first (for their export).
    pub(crate) async fn audit_of_admin(
        &self,
        admin: TelegramId,
    ) -> Result<Vec<(OffsetDateTime, AdminAction)>, StoreError> {
        let rows = sqlx::query(
            "SELECT at, action FROM admin_audit WHERE admin_telegram_id = $1 ORDER BY id",
        )
        .bind(admin.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let action: String = row.try_get("action")?;
                Ok((
                    from_unix_seconds(row.try_get("at")?),
                    AdminAction::from_code(&action)
                        .ok_or(StoreError::Corrupt("admin_audit.action"))?,
                ))
            })
            .collect()
    }

    /// Deletes audit entries from before `cutoff`; returns how many.
    pub async fn purge_audit(&self, cutoff: OffsetDateTime) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM admin_audit WHERE at < $1")
            .bind(unix_seconds(cutoff))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
