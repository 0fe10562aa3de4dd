//! Support: the person's message becomes a ticket, posted to the operator's support chat (or to
//! each admin) tagged with its number; the operator's reply to that post goes back to the person.

use app::RelayPost;
use domain::User;
use teloxide_core::types::Message;

use crate::callback::Action;
use crate::ctx::Ctx;
use crate::texts::{self, texts};
use crate::{account, screens, BotError};

/// The person's message while the bot waits for a support question.
pub async fn user_message(
    ctx: &Ctx,
    user: &User,
    chat: i64,
    text: Option<&str>,
) -> Result<(), BotError> {
    let t = texts(user.language);
    let Some(text) = text.filter(|t| !t.is_empty()) else {
        let screen = screens::prompt(user.language, t.support_empty);
        return account::show(ctx, user, chat, None, screen).await;
    };
    let now = ctx.now();
    let (ticket, message) = ctx.app.open_support_ticket(user, text, now).await?;
    ctx.app.end_conversation(user.id, now).await?;
    let relay = texts::support_relay(ticket, user.id, user.language, text);
    let mut relayed = 0usize;
    for operator in ctx.app.support_chats() {
        let sent = ctx.send(operator, &relay, None).await;
        if let Some(posted) = ctx.delivered(None, sent).await? {
            // The first post is the one whose replies find the ticket.
            if relayed == 0 {
                ctx.app
                    .note_support_relay(
                        message,
                        RelayPost {
                            chat_id: operator,
                            message_id: i64::from(posted.id.0),
                        },
                    )
                    .await?;
            }
            relayed += 1;
        }
    }
    tracing::info!(operators = relayed, "a support ticket was opened");
    let screen = screens::with_button(
        &texts::support_sent(user.language, ticket),
        t.btn_back,
        Action::Menu,
    );
    account::show(ctx, user, chat, None, screen).await
}

/// A message in the support chat: a reply to a ticket's post answers that ticket.
pub async fn operator_reply(ctx: &Ctx, message: &Message) -> Result<(), BotError> {
    operator_reply_handled(ctx, message).await.map(|_| ())
}

/// Delivers an operator's reply to the ticket's person; `false` if the message answers no
/// ticket.
pub async fn operator_reply_handled(ctx: &Ctx, message: &Message) -> Result<bool, BotError> {
    let (Some(reply_to), Some(text)) = (message.reply_to_message(), message.text()) else {
        return Ok(false);
    };
    let chat = message.chat.id.0;
    let now = ctx.now();
    let Some(owner) = ctx
        .app
        .answer_support(
            RelayPost {
                chat_id: chat,
                message_id: i64::from(reply_to.id.0),
            },
            text,
            now,
        )
        .await?
    else {
        return Ok(false);
    };
    let Some(user) = ctx.app.reachable_person(owner.user).await? else {
        return Ok(true);
    };
    let answer = texts::support_answer(user.language, owner.ticket, text);
    let screen = screens::with_button(&answer, texts(user.language).btn_support, Action::Support);
    let sent = ctx
        .send_to(&user, &screen.text, Some(screen.keyboard))
        .await;
    let delivered = ctx.delivered(Some(user.id), sent).await?.is_some();
    tracing::info!(delivered, "an operator answered a support ticket");
    Ok(true)
}
