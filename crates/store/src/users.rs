//! Users: creating, finding, correcting, blocking and erasing people.

use domain::{
    from_unix_seconds, unix_seconds, Email, Language, NewUser, Subscription, SubscriptionToken,
    TelegramId, User, UserId, UserRef, VlessUuid,
};
use sqlx::any::AnyRow;
use sqlx::{Any, Row as _, Transaction};
use time::OffsetDateTime;

use crate::subscriptions::subscription_from_row;
use crate::{access, Store, StoreError};

/// The columns [`user_from_row`] reads, in a form that can follow `SELECT`.
pub(crate) const USER_COLUMNS: &str = "users.id, users.telegram_id, users.first_name, \
     users.last_name, users.username, users.email, users.language, users.consent_at, \
     users.blocked, users.created_at";

/// One line of `user list`: the person and their subscription, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSummary {
    pub user: User,
    pub subscription: Option<Subscription>,
}

/// Counts for the operator; nothing about any one person and nothing about traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub users: i64,
    /// Users not blocked whose subscription has not ended.
    pub active_subscriptions: i64,
    pub blocked: i64,
}

pub(crate) fn user_from_row(row: &AnyRow) -> Result<User, StoreError> {
    let email: Option<String> = row.try_get("email")?;
    let language: String = row.try_get("language")?;
    let consent_at: Option<i64> = row.try_get("consent_at")?;
    let blocked: i64 = row.try_get("blocked")?;
    Ok(User {
        id: UserId(row.try_get("id")?),
        telegram_id: TelegramId(row.try_get("telegram_id")?),
        first_name: row.try_get("first_name")?,
        last_name: row.try_get("last_name")?,
        username: row.try_get("username")?,
        email: email
            .map(|e| e.parse::<Email>())
            .transpose()
            .map_err(|_| StoreError::Corrupt("users.email"))?,
        language: Language::from_code(&language).ok_or(StoreError::Corrupt("users.language"))?,
        consent_at: consent_at.map(from_unix_seconds),
        blocked: blocked != 0,
        created_at: from_unix_seconds(row.try_get("created_at")?),
    })
}

/// Fails with [`StoreError::UserNotFound`] unless exactly one row changed.
pub(crate) fn expect_one(rows_affected: u64) -> Result<(), StoreError> {
    if rows_affected == 0 {
        return Err(StoreError::UserNotFound);
    }
    Ok(())
}

impl Store {
    /// Creates a person's account with fresh access credentials (a random VLESS UUID and
    /// subscription token). No subscription yet, so nobody's access changes.
    pub async fn create_user(
        &self,
        new: &NewUser,
        now: OffsetDateTime,
    ) -> Result<User, StoreError> {
        let mut tx = self.begin_write().await?;
        let now_secs = unix_seconds(now);
        let inserted = sqlx::query(
            "INSERT INTO users (telegram_id, first_name, last_name, username, email, language, \
             consent_at, blocked, created_at, last_seen_at) \
             VALUES ($1, $2, $3, $4, NULL, $5, $6, 0, $7, $7) RETURNING id",
        )
        .bind(new.telegram_id.0)
        .bind(new.first_name.as_str())
        .bind(new.last_name.as_deref())
        .bind(new.username.as_deref())
        .bind(new.language.code())
        .bind(new.consent_at.map(unix_seconds))
        .bind(now_secs)
        .fetch_one(&mut *tx)
        .await;
        let id = match inserted {
            Ok(row) => UserId(row.try_get("id")?),
            Err(err) if StoreError::is_unique_violation(&err) => {
                return Err(StoreError::TelegramIdTaken)
            }
            Err(err) => return Err(err.into()),
        };
        insert_credentials(&mut tx, id).await?;
        tx.commit().await?;
        Ok(User {
            id,
            telegram_id: new.telegram_id,
            first_name: new.first_name.clone(),
            last_name: new.last_name.clone(),
            username: new.username.clone(),
            email: None,
            language: new.language,
            consent_at: new.consent_at.map(|t| from_unix_seconds(unix_seconds(t))),
            blocked: false,
            created_at: from_unix_seconds(now_secs),
        })
    }

    /// Resolves an id an operator typed: the internal id first, then the Telegram id.
    pub async fn find_user(&self, user: UserRef) -> Result<Option<User>, StoreError> {
        if let Some(found) = self.user(UserId(user.0)).await? {
            return Ok(Some(found));
        }
        self.user_by_telegram(TelegramId(user.0)).await
    }

    pub async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn user_by_telegram(
        &self,
        telegram_id: TelegramId,
    ) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE telegram_id = $1");
        let row = sqlx::query(&sql)
            .bind(telegram_id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Users in creation order, with their subscriptions.
    pub async fn list_users(
        &self,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<UserSummary>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, subscriptions.user_id AS sub_user_id, subscriptions.plan, \
             subscriptions.activated_at, subscriptions.ends_at \
             FROM users LEFT JOIN subscriptions ON subscriptions.user_id = users.id \
             ORDER BY users.id LIMIT $1 OFFSET $2"
        );
        let rows = sqlx::query(&sql)
            .bind(i64::from(limit))
            .bind(i64::from(offset))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let sub_user: Option<i64> = row.try_get("sub_user_id")?;
                Ok(UserSummary {
                    user: user_from_row(row)?,
                    subscription: match sub_user {
                        Some(_) => Some(subscription_from_row(row, "sub_user_id")?),
                        None => None,
                    },
                })
            })
            .collect()
    }

    /// Blocking ends access at once; unblocking restores whatever subscription remains.
    pub async fn set_blocked(&self, id: UserId, blocked: bool) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let revision = access::bump_revision(&mut tx).await?;
        let changed = sqlx::query("UPDATE users SET blocked = $1 WHERE id = $2")
            .bind(i16::from(blocked))
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        expect_one(changed.rows_affected())?;
        access::mark_changed(&mut tx, id, revision).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets, changes or removes the person's email.
    pub async fn set_email(&self, id: UserId, email: Option<&Email>) -> Result<(), StoreError> {
        let changed = sqlx::query("UPDATE users SET email = $1 WHERE id = $2")
            .bind(email.map(Email::as_str))
            .bind(id.0)
            .execute(&self.pool)
            .await?;
        expect_one(changed.rows_affected())
    }

    /// Refreshes what Telegram says about the person (names follow Telegram, per the policy).
    pub async fn update_profile(
        &self,
        id: UserId,
        first_name: &str,
        last_name: Option<&str>,
        username: Option<&str>,
        language: Language,
    ) -> Result<(), StoreError> {
        let changed = sqlx::query(
            "UPDATE users SET first_name = $1, last_name = $2, username = $3, language = $4 \
             WHERE id = $5",
        )
        .bind(first_name)
        .bind(last_name)
        .bind(username)
        .bind(language.code())
        .bind(id.0)
        .execute(&self.pool)
        .await?;
        expect_one(changed.rows_affected())
    }

    /// Records that the person used the service (for the retention rule).
    pub async fn touch_last_seen(&self, id: UserId, now: OffsetDateTime) -> Result<(), StoreError> {
        let changed = sqlx::query("UPDATE users SET last_seen_at = $1 WHERE id = $2")
            .bind(unix_seconds(now))
            .bind(id.0)
            .execute(&self.pool)
            .await?;
        expect_one(changed.rows_affected())
    }

    /// When the person last used the service.
    pub async fn last_seen(&self, id: UserId) -> Result<Option<OffsetDateTime>, StoreError> {
        let row = sqlx::query("SELECT last_seen_at FROM users WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| Ok(from_unix_seconds(row.try_get("last_seen_at")?)))
            .transpose()
    }

    /// Erases the person: their profile, subscription and credentials are deleted (access ends
    /// on every node with the next access feed), and their payments stay without anything
    /// linking them to the person. Trial claims are keyed by an opaque hash and stay, so the
    /// trial cannot be taken twice.
    pub async fn erase_user(&self, id: UserId) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let revision = access::bump_revision(&mut tx).await?;
        let uuid = sqlx::query("SELECT vless_uuid FROM credentials WHERE user_id = $1")
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await?;
        // Unlinked explicitly as well as by ON DELETE SET NULL, so erasure never depends on a
        // pragma having been set on this connection.
        // The return page's secret goes too: nothing leads from a link back to the record.
        sqlx::query("UPDATE payments SET user_id = NULL, return_token = NULL WHERE user_id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM subscriptions WHERE user_id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM credentials WHERE user_id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        // The saved payment method's id at YooKassa goes with them (auto-renewal).
        sqlx::query("DELETE FROM auto_renewals WHERE user_id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM stars_subscriptions WHERE user_id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM account_links WHERE user_id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM web_sessions WHERE user_id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        // Which codes they used goes; each code's count of uses stays, as a number.
        sqlx::query("DELETE FROM promo_redemptions WHERE user_id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        // Referrals: the link goes whichever side is erased, and so does their own code. A
        // gift they redeemed keeps its record (the buyer's payment) without naming them; one
        // they bought stays redeemable by whoever holds its code.
        sqlx::query("DELETE FROM referrals WHERE newcomer_id = $1 OR referrer_id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM referral_codes WHERE user_id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE gifts SET redeemed_by = NULL WHERE redeemed_by = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        // Someone who is also an admin: their panel sign-ins go (the audit list stays a year,
        // as the record of what was done).
        for table in ["admin_login_tokens", "admin_sessions"] {
            sqlx::query(&format!(
                "DELETE FROM {table} WHERE telegram_id = \
                 (SELECT telegram_id FROM users WHERE id = $1)"
            ))
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        }
        let deleted = sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        expect_one(deleted.rows_affected())?;
        if let Some(row) = uuid {
            let uuid: String = row.try_get("vless_uuid")?;
            access::add_tombstone(&mut tx, &uuid, revision).await?;
        }
        tx.commit().await?;
        self.checkpoint_after_erasure().await;
        Ok(())
    }

    /// The retention rule's candidates: people who joined and were last seen before `cutoff`
    /// and whose subscription, if any, ended before it. Oldest first.
    pub async fn inactive_users(&self, cutoff: OffsetDateTime) -> Result<Vec<UserId>, StoreError> {
        let rows = sqlx::query(
            "SELECT users.id FROM users \
             LEFT JOIN subscriptions ON subscriptions.user_id = users.id \
             WHERE users.created_at < $1 AND users.last_seen_at < $1 \
             AND (subscriptions.ends_at IS NULL OR subscriptions.ends_at < $1) ORDER BY users.id",
        )
        .bind(unix_seconds(cutoff))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok(UserId(row.try_get("id")?)))
            .collect()
    }

    /// Aggregate counts for the operator.
    pub async fn stats(&self, now: OffsetDateTime) -> Result<Stats, StoreError> {
        let row = sqlx::query(
            "SELECT \
               (SELECT COUNT(*) FROM users) AS users, \
               (SELECT COUNT(*) FROM users WHERE blocked <> 0) AS blocked, \
               (SELECT COUNT(*) FROM subscriptions JOIN users ON users.id = subscriptions.user_id \
                 WHERE users.blocked = 0 AND subscriptions.ends_at > $1) AS active",
        )
        .bind(unix_seconds(now))
        .fetch_one(&self.pool)
        .await?;
        Ok(Stats {
            users: row.try_get("users")?,
            active_subscriptions: row.try_get("active")?,
            blocked: row.try_get("blocked")?,
        })
    }
}

async fn insert_credentials(
    tx: &mut Transaction<'static, Any>,
    id: UserId,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO credentials (user_id, vless_uuid, sub_token, access_revision) \
         VALUES ($1, $2, $3, 0)",
    )
    .bind(id.0)
    .bind(VlessUuid::generate().to_string())
    .bind(SubscriptionToken::generate().as_str())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
