//! Routes one update: claim its id (a second delivery acts once), then messages, button presses
//! and payment queries go to their flows. People the operator blocked get nothing.

use std::time::Duration;

use app::{TelegramProfile, Visitor};
use domain::TelegramId;
use teloxide_core::types::{CallbackQuery, Message, Update, UpdateKind};

use crate::callback::Action;
use crate::ctx::Ctx;
use crate::offset::Hold;
use crate::{account, admin, onboarding, payments, support, BotError};

/// How often an update is tried when handling it fails (the database was unreachable, say).
/// The claim stays taken between tries: the retry is this delivery's, not a repeat.
const HANDLE_ATTEMPTS: u32 = 3;
/// Pause before the second try; the third waits twice as long.
const RETRY_PAUSE: Duration = Duration::from_secs(1);

/// Handles an update claimed already (`first_time` says whether this delivery made the claim),
/// trying again after a failure; a successful payment releases `hold` once credited. After the last try the update is given up (logged), so one bad
/// update cannot hold up everyone else's. Only [`BotError::Cancelled`] is returned.
pub async fn handle_with_retries(
    ctx: &Ctx,
    update: &Update,
    first_time: bool,
    hold: &mut Option<Hold>,
) -> Result<(), BotError> {
    for attempt in 1..=HANDLE_ATTEMPTS {
        let err = match act(ctx, update.clone(), first_time, hold).await {
            Ok(()) => return Ok(()),
            Err(BotError::Cancelled) => return Err(BotError::Cancelled),
            Err(err) => err,
        };
        tracing::error!(attempt, error = %err, "an update could not be handled");
        if attempt == HANDLE_ATTEMPTS {
            break;
        }
        tokio::select! {
            () = tokio::time::sleep(RETRY_PAUSE * attempt) => {}
            () = ctx.tg.cancelled() => return Err(BotError::Cancelled),
        }
    }
    Ok(())
}

/// Records that the update is being handled; `false` if an earlier delivery did already (a
/// second delivery then acts once).
pub async fn claim(ctx: &Ctx, update: &Update) -> Result<bool, BotError> {
    Ok(ctx
        .app
        .claim_update(i64::from(update.id.0), ctx.now())
        .await?)
}

async fn act(
    ctx: &Ctx,
    update: Update,
    first_time: bool,
    hold: &mut Option<Hold>,
) -> Result<(), BotError> {
    match update.kind {
        // A successful payment is credited by its charge id, exactly once whatever the update
        // id says; a repeat delivery is still checked so a crash between claiming the update
        // and crediting cannot lose a payment.
        UpdateKind::Message(message) if message.successful_payment().is_some() => {
            payments::successful_payment(ctx, &message, first_time, hold).await
        }
        _ if !first_time => {
            tracing::debug!("a repeated update was skipped");
            Ok(())
        }
        UpdateKind::Message(message) => on_message(ctx, &message).await,
        UpdateKind::CallbackQuery(query) => on_callback(ctx, &query).await,
        UpdateKind::PreCheckoutQuery(query) => payments::pre_checkout(ctx, &query).await,
        _ => Ok(()),
    }
}

pub fn profile(user: &teloxide_core::types::User) -> TelegramProfile {
    TelegramProfile {
        telegram_id: telegram_id(user),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        username: user.username.clone(),
    }
}

/// The one place a Telegram user id becomes ours. Telegram's ids fit in 52 bits; one that did
/// not would name nobody we know.
pub fn telegram_id(user: &teloxide_core::types::User) -> TelegramId {
    TelegramId(i64::try_from(user.id.0).unwrap_or(i64::MAX))
}

/// Who sent an update, as the application recognises them (names refreshed, reachable again).
async fn recognise(ctx: &Ctx, from: &teloxide_core::types::User) -> Result<Visitor, BotError> {
    Ok(ctx.app.recognise(&profile(from), ctx.now()).await?)
}

async fn on_message(ctx: &Ctx, message: &Message) -> Result<(), BotError> {
    let Some(from) = message.from.as_ref() else {
        return Ok(());
    };
    let chat = message.chat.id.0;
    let support_chat = ctx.app.settings().support_chat_id;
    if !message.chat.is_private() {
        if chat == support_chat && support_chat != 0 {
            return support::operator_reply(ctx, message).await;
        }
        return Ok(());
    }
    let from_id = telegram_id(from);
    if ctx.is_admin(from_id) {
        if let Some(text) = message.text() {
            if admin::is_command(text) {
                return admin::command(ctx, from_id, chat, text).await;
            }
        }
        if message.reply_to_message().is_some()
            && support::operator_reply_handled(ctx, message).await?
        {
            return Ok(());
        }
    }
    // People the operator blocked get nothing.
    match recognise(ctx, from).await? {
        Visitor::Stranger => {
            let parameter = crate::invites::start_parameter(message.text());
            onboarding::greet(ctx, chat, from, parameter.as_ref()).await
        }
        Visitor::Blocked => Ok(()),
        Visitor::Person(user) => account::on_text(ctx, &user, message).await,
    }
}

async fn on_callback(ctx: &Ctx, query: &CallbackQuery) -> Result<(), BotError> {
    let action = query.data.as_deref().and_then(Action::decode);
    let chat = query
        .message
        .as_ref()
        .map(|m| m.chat().id.0)
        .unwrap_or_else(|| telegram_id(&query.from).0);
    let message_id = query.message.as_ref().map(|m| m.id().0);
    let from_id = telegram_id(&query.from);
    let existing = ctx.app.account_of(from_id).await?;
    // Stop the button's spinner; the answer itself carries nothing.
    let answered = ctx
        .tg
        .call(teloxide_core::requests::Requester::answer_callback_query(
            ctx.tg.bot(),
            query.id.clone(),
        ))
        .await;
    ctx.delivered(existing.as_ref().map(|u| u.id), answered)
        .await?;
    if existing.as_ref().is_some_and(|u| u.blocked) {
        return Ok(());
    }
    let Some(action) = action else {
        return Ok(());
    };
    match (action, recognise(ctx, &query.from).await?) {
        (_, Visitor::Blocked) => Ok(()),
        (Action::Agree(language), Visitor::Stranger) => {
            onboarding::agree(ctx, chat, message_id, &query.from, language, None).await
        }
        (Action::AgreeWith(language, parameter), Visitor::Stranger) => {
            onboarding::agree(
                ctx,
                chat,
                message_id,
                &query.from,
                language,
                Some(&parameter),
            )
            .await
        }
        (Action::Decline(language), Visitor::Stranger) => {
            onboarding::decline(ctx, chat, message_id, language).await
        }
        (Action::ConsentLanguage(language), Visitor::Stranger) => {
            onboarding::consent_screen(ctx, chat, message_id, language, None).await
        }
        (Action::ConsentLanguageWith(language, parameter), Visitor::Stranger) => {
            onboarding::consent_screen(ctx, chat, message_id, language, Some(&parameter)).await
        }
        (_, Visitor::Stranger) => {
            let language =
                domain::Language::from_telegram_code(query.from.language_code.as_deref());
            onboarding::consent_screen(ctx, chat, message_id, language, None).await
        }
        (action, Visitor::Person(user)) => {
            account::on_action(ctx, &user, chat, message_id, action).await
        }
    }
}
