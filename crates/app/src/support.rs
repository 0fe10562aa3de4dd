//! Support tickets: a person's message to the operator and the operator's answer back. The text
//! is personal data: stored for the ticket's retention, exported, and erased with the person.

use domain::{User, UserId};
use store::TicketId;
use time::OffsetDateTime;

use crate::{App, AppError};

/// One stored message of a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SupportMessageId(pub i64);

/// Where a ticket's message was posted for the operator: a Telegram chat (the support chat or
/// an admin's) and the message in it. An operator's reply names the same pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayPost {
    pub chat_id: i64,
    pub message_id: i64,
}

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
    ) -> Result<(TicketId, SupportMessageId), AppError> {
        let (ticket, message) = self.store().open_ticket(user.id, text, now).await?;
        Ok((ticket, SupportMessageId(message)))
    }

    /// Remembers where the message was posted for the operator, so their reply finds it.
    pub async fn note_support_relay(
        &self,
        message: SupportMessageId,
        post: RelayPost,
    ) -> Result<(), AppError> {
        Ok(self
            .store()
            .set_support_relay(message.0, post.chat_id, post.message_id)
            .await?)
    }

    /// Records an operator's reply to the relayed post `reply_to`; `None` if that post belongs
    /// to no ticket (or its person was erased).
    pub async fn answer_support(
        &self,
        reply_to: RelayPost,
        text: &str,
        now: OffsetDateTime,
    ) -> Result<Option<TicketOwner>, AppError> {
        let found = self
            .store()
            .ticket_by_relay(reply_to.chat_id, reply_to.message_id)
            .await?;
        let Some((ticket, user)) = found else {
            return Ok(None);
        };
        self.store()
            .add_support_message(ticket, true, text, now)
            .await?;
        Ok(Some(TicketOwner { ticket, user }))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::AppSettings;

    use store::testing::TestDb;

    use super::*;

    #[tokio::test]
    async fn a_reply_to_the_relayed_post_answers_its_ticket_and_a_reply_elsewhere_answers_none() {
        let db = TestDb::sqlite().await;
        let app = App::new(db.store.clone(), AppSettings::default());
        let now = OffsetDateTime::now_utc();
        let user = db.user(51, now).await;
        let (ticket, message) = app.open_support_ticket(&user, "help", now).await.unwrap();
        let post = RelayPost {
            chat_id: -100,
            message_id: 7,
        };
        app.note_support_relay(message, post).await.unwrap();
        let elsewhere = RelayPost {
            chat_id: 7,
            message_id: -100,
        };
        assert_eq!(
            app.answer_support(elsewhere, "hi", now).await.unwrap(),
            None
        );
        assert_eq!(
            app.answer_support(post, "hi", now).await.unwrap(),
            Some(TicketOwner {
                ticket,
                user: user.id
            })
        );
    }
}
