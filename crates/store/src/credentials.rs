//! Access credentials: each user's VLESS UUID and revocable subscription token.

use domain::{SubscriptionToken, User, UserId, VlessUuid};
use sqlx::Row as _;

use crate::users::{expect_one, user_from_row, USER_COLUMNS};
use crate::{access, Store, StoreError};

/// What lets a person in: the UUID their client presents to nodes, and the secret in their
/// subscription URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub vless_uuid: VlessUuid,
    pub sub_token: SubscriptionToken,
}

impl Store {
    pub async fn credentials(&self, user: UserId) -> Result<Option<Credentials>, StoreError> {
        let row = sqlx::query("SELECT vless_uuid, sub_token FROM credentials WHERE user_id = $1")
            .bind(user.0)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let uuid: String = row.try_get("vless_uuid")?;
        let token: String = row.try_get("sub_token")?;
        Ok(Some(Credentials {
            vless_uuid: uuid
                .parse()
                .map_err(|_| StoreError::Corrupt("credentials.vless_uuid"))?,
            sub_token: token
                .parse()
                .map_err(|_| StoreError::Corrupt("credentials.sub_token"))?,
        }))
    }

    /// The owner of a subscription URL's token. An equality lookup on a unique index: the time
    /// it takes does not depend on how much of a guessed token is right.
    pub async fn user_by_sub_token(
        &self,
        token: &SubscriptionToken,
    ) -> Result<Option<User>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users JOIN credentials ON credentials.user_id = users.id \
             WHERE credentials.sub_token = $1"
        );
        let row = sqlx::query(&sql)
            .bind(token.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Issues a new subscription token; every copy of the old URL stops working. Node access is
    /// unaffected (the VLESS UUID stays).
    pub async fn rotate_sub_token(&self, user: UserId) -> Result<SubscriptionToken, StoreError> {
        let token = SubscriptionToken::generate();
        let changed = sqlx::query("UPDATE credentials SET sub_token = $1 WHERE user_id = $2")
            .bind(token.as_str())
            .bind(user.0)
            .execute(&self.pool)
            .await?;
        expect_one(changed.rows_affected())?;
        Ok(token)
    }

    /// Issues a new VLESS UUID; nodes drop the old one with the next access feed.
    pub async fn rotate_vless_uuid(&self, user: UserId) -> Result<VlessUuid, StoreError> {
        let mut tx = self.begin_write().await?;
        let revision = access::bump_revision(&mut tx).await?;
        let old = sqlx::query("SELECT vless_uuid FROM credentials WHERE user_id = $1")
            .bind(user.0)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::UserNotFound)?;
        let old: String = old.try_get("vless_uuid")?;
        let uuid = VlessUuid::generate();
        sqlx::query(
            "UPDATE credentials SET vless_uuid = $1, access_revision = $2 WHERE user_id = $3",
        )
        .bind(uuid.to_string())
        .bind(revision)
        .bind(user.0)
        .execute(&mut *tx)
        .await?;
        access::add_tombstone(&mut tx, &old, revision).await?;
        tx.commit().await?;
        Ok(uuid)
    }
}
