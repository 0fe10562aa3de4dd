//! What every handler works with: the application, the Telegram client, the trial secret and
//! the clock; plus sending and editing messages so that a person who blocked the bot is marked
//! and never messaged again.

use app::App;
use domain::{TelegramId, User, UserId, UserRef};
use teloxide_core::payloads::{EditMessageTextSetters as _, SendMessageSetters as _};
use teloxide_core::requests::Requester as _;
use teloxide_core::types::{ChatId, InlineKeyboardMarkup, Message, MessageId, ParseMode};
use time::OffsetDateTime;

use crate::telegram::{Telegram, TgError};
use crate::{BotError, TrialKey};

/// A screen: HTML text and its inline keyboard.
pub struct Screen {
    pub text: String,
    pub keyboard: InlineKeyboardMarkup,
}

#[derive(Clone)]
pub struct Ctx {
    pub app: App,
    pub tg: Telegram,
    pub trial_key: TrialKey,
}

impl Ctx {
    pub fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    pub fn is_admin(&self, telegram_id: TelegramId) -> bool {
        self.app.is_admin(telegram_id)
    }

    /// Sends an HTML message (with a keyboard, if any) to a chat.
    pub async fn send(
        &self,
        chat: i64,
        text: &str,
        keyboard: Option<InlineKeyboardMarkup>,
    ) -> Result<Message, TgError> {
        let mut request = self
            .tg
            .bot()
            .send_message(ChatId(chat), text)
            .parse_mode(ParseMode::Html);
        if let Some(keyboard) = keyboard {
            request = request.reply_markup(keyboard);
        }
        self.tg.call(request).await
    }

    /// Shows `screen` in place of message `message_id`, or as a new message when that one
    /// cannot be edited any more.
    pub async fn show(
        &self,
        chat: i64,
        message_id: Option<i32>,
        screen: Screen,
    ) -> Result<(), TgError> {
        if let Some(id) = message_id {
            let request = self
                .tg
                .bot()
                .edit_message_text(ChatId(chat), MessageId(id), &screen.text)
                .parse_mode(ParseMode::Html)
                .reply_markup(screen.keyboard.clone());
            match self.tg.call(request).await {
                Ok(_) | Err(TgError::NotModified) => return Ok(()),
                Err(TgError::CannotEdit) => {}
                Err(other) => return Err(other),
            }
        }
        self.send(chat, &screen.text, Some(screen.keyboard)).await?;
        Ok(())
    }

    /// Marks a person as unreachable after Telegram said they blocked the bot, so nothing is
    /// sent to them again until they write.
    pub async fn note_unreachable(&self, user: UserId) -> Result<(), BotError> {
        self.app.note_bot_blocked(user).await?;
        tracing::info!("a person blocked the bot; they will not be messaged again");
        Ok(())
    }

    /// Turns a send result for a known person into the handler's result: a block marks them
    /// unreachable, a vanished chat or an unavailable Telegram is logged by kind and dropped.
    pub async fn delivered<T>(
        &self,
        user: Option<UserId>,
        result: Result<T, TgError>,
    ) -> Result<Option<T>, BotError> {
        match result {
            Ok(value) => Ok(Some(value)),
            Err(TgError::Blocked) => {
                if let Some(user) = user {
                    self.note_unreachable(user).await?;
                }
                Ok(None)
            }
            Err(TgError::Cancelled) => Err(BotError::Cancelled),
            Err(err) => {
                tracing::warn!(error = %err, "a message could not be delivered");
                Ok(None)
            }
        }
    }

    /// Resolves an id an operator typed (internal id first, then Telegram id).
    pub async fn find(&self, typed: UserRef) -> Result<Option<User>, BotError> {
        match self.app.resolve(typed).await {
            Ok(user) => Ok(Some(user)),
            Err(app::AppError::UserNotFound) => Ok(None),
            Err(other) => Err(other.into()),
        }
    }

    /// Sends an HTML message to a person's private chat (whose id is their Telegram id).
    pub async fn send_to(
        &self,
        person: &User,
        text: &str,
        keyboard: Option<InlineKeyboardMarkup>,
    ) -> Result<Message, TgError> {
        self.send(person.telegram_id.0, text, keyboard).await
    }
}
