//! Support tickets: what a person wrote to the operator and the answers, with where the bot
//! relayed each message so an operator's reply finds its ticket. Personal data: erased with the
//! person and after their own retention period.

use domain::{from_unix_seconds, unix_seconds, UserId};
use serde::Serialize;
use sqlx::Row as _;
use time::OffsetDateTime;

use crate::error::missing_user;
use crate::{Store, StoreError};

/// A ticket's number, shown to the person and the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct TicketId(pub i64);

/// One message of a ticket, as exported to the person.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct SupportMessage {
    pub ticket: TicketId,
    pub from_operator: bool,
    pub body: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Support text is personal data: `{:?}` names only the ticket.
impl std::fmt::Debug for SupportMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SupportMessage")
            .field("ticket", &self.ticket)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens a ticket with the person's first message; returns the ticket and message ids.
    pub async fn open_ticket(
        &self,
        user: UserId,
        body: &str,
        now: OffsetDateTime,
    ) -> Result<(TicketId, i64), StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO support_tickets (user_id, opened_at, updated_at) VALUES ($1, $2, $2) \
             RETURNING id",
        )
        .bind(user.0)
        .bind(unix_seconds(now))
        .fetch_one(&mut *tx)
        .await
        .map_err(missing_user)?;
        let ticket = TicketId(row.try_get("id")?);
        let message = insert_message(&mut tx, ticket, false, body, now).await?;
        tx.commit().await?;
        Ok((ticket, message))
    }

    /// Adds a message to a ticket (an operator's answer, or the person writing again).
    pub async fn add_support_message(
        &self,
        ticket: TicketId,
        from_operator: bool,
        body: &str,
        now: OffsetDateTime,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let id = insert_message(&mut tx, ticket, from_operator, body, now).await?;
        sqlx::query("UPDATE support_tickets SET updated_at = $1 WHERE id = $2")
            .bind(unix_seconds(now))
            .bind(ticket.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Remembers where the bot posted a support message in the operator's chat.
    pub async fn set_support_relay(
        &self,
        message: i64,
        chat_id: i64,
        relay_message_id: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE support_messages SET relay_chat_id = $1, relay_message_id = $2 WHERE id = $3",
        )
        .bind(chat_id)
        .bind(relay_message_id)
        .bind(message)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The ticket and its person behind a message the bot posted in an operator's chat.
    pub async fn ticket_by_relay(
        &self,
        chat_id: i64,
        relay_message_id: i64,
    ) -> Result<Option<(TicketId, UserId)>, StoreError> {
        let row = sqlx::query(
            "SELECT support_tickets.id, support_tickets.user_id FROM support_messages \
             JOIN support_tickets ON support_tickets.id = support_messages.ticket_id \
             WHERE support_messages.relay_chat_id = $1 AND support_messages.relay_message_id = $2",
        )
        .bind(chat_id)
        .bind(relay_message_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok((
                TicketId(row.try_get("id")?),
                UserId(row.try_get("user_id")?),
            ))
        })
        .transpose()
    }

    /// Every support message of a person, oldest first (for their export).
    pub async fn support_messages(&self, user: UserId) -> Result<Vec<SupportMessage>, StoreError> {
        let rows = sqlx::query(
            "SELECT support_messages.ticket_id, support_messages.from_operator, \
             support_messages.body, support_messages.created_at FROM support_messages \
             JOIN support_tickets ON support_tickets.id = support_messages.ticket_id \
             WHERE support_tickets.user_id = $1 ORDER BY support_messages.id",
        )
        .bind(user.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let from_operator: i64 = row.try_get("from_operator")?;
                Ok(SupportMessage {
                    ticket: TicketId(row.try_get("ticket_id")?),
                    from_operator: from_operator != 0,
                    body: row.try_get("body")?,
                    created_at: from_unix_seconds(row.try_get("created_at")?),
                })
            })
            .collect()
    }

    /// Erases tickets untouched since `cutoff` (their own retention rule); returns how many.
    pub async fn purge_support_tickets(&self, cutoff: OffsetDateTime) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "DELETE FROM support_messages WHERE ticket_id IN \
             (SELECT id FROM support_tickets WHERE updated_at < $1)",
        )
        .bind(unix_seconds(cutoff))
        .execute(&mut *tx)
        .await?;
        let done = sqlx::query("DELETE FROM support_tickets WHERE updated_at < $1")
            .bind(unix_seconds(cutoff))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}

async fn insert_message(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    ticket: TicketId,
    from_operator: bool,
    body: &str,
    now: OffsetDateTime,
) -> Result<i64, StoreError> {
    let row = sqlx::query(
        "INSERT INTO support_messages (ticket_id, from_operator, body, created_at) \
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(ticket.0)
    .bind(i16::from(from_operator))
    .bind(body)
    .bind(unix_seconds(now))
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get("id")?)
}
