//! Support tickets: a person's message to the operator and the operator's answer back. The text
//! is personal data: stored for the ticket's retention, exported, and erased with the person.

use domain::{User, UserId};
use store::TicketId;
use time::OffsetDateTime;

use crate::{App, AppError};

/// Where an operator's answer goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketOwner {
    pub ticket: TicketId,
    pub user: UserId,
}

impl App {
    /// Opens a ticket with the person's message; returns the ticket and the message's id (for
    /// [`App::note_support_relay`]).
    pub async fn open_support_ticket(
        &self,
        user: &User,
        text: &str,
        now: OffsetDateTime,
    ) -> Result<(TicketId, i64), AppError> {
        Ok(self.store().open_ticket(user.id, text, now).await?)
    }

    /// Remembers where the message was posted for the operator, so their reply finds it.
    pub async fn note_support_relay(
        &self,
        message: i64,
        chat_id: i64,
        relay_message_id: i64,
    ) -> Result<(), AppError> {
        Ok(self
            .store()
            .set_support_relay(message, chat_id, relay_message_id)
            .await?)
    }

    /// Records an operator's reply to the relayed message `reply_to` in `chat_id`; `None` if
    /// that message belongs to no ticket (or its person was erased).
    pub async fn answer_support(
        &self,
        chat_id: i64,
        reply_to: i64,
        text: &str,
        now: OffsetDateTime,
    ) -> Result<Option<TicketOwner>, AppError> {
        let Some((ticket, user)) = self.store().ticket_by_relay(chat_id, reply_to).await? else {
            return Ok(None);
        };
        self.store()
            .add_support_message(ticket, true, text, now)
            .await?;
        Ok(Some(TicketOwner { ticket, user }))
    }
}
