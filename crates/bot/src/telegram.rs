//! Calling the Bot API robustly: 429 waits `retry_after` and tries again, network failures and
//! server errors back off and try again, and the errors the bot must act on (blocked by the
//! person, chat gone, message not modified) come back as [`TgError`] variants. Errors are
//! described by kind only: Telegram's own texts and URLs (which hold the token) are never logged.

use std::time::Duration;

use teloxide_core::errors::{ApiError, RequestError};
use teloxide_core::requests::{Output, Request};
use teloxide_core::Bot;
use tokio_util::sync::CancellationToken;

/// How often a call is tried in all before giving up on a transient failure.
const MAX_ATTEMPTS: u32 = 5;
/// The longest `retry_after` honoured inline; longer ones give up this call.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// First backoff after a network or server error; doubles each time.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// What a failed call means for the bot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TgError {
    /// The person blocked the bot or deleted their account: never message them again.
    #[error("the person blocked the bot")]
    Blocked,
    #[error("chat not found")]
    ChatNotFound,
    /// An edit that would change nothing (a double tap): harmless.
    #[error("message not modified")]
    NotModified,
    /// The message to edit is gone or too old: send a new one instead.
    #[error("message cannot be edited")]
    CannotEdit,
    /// Telegram kept failing or asked to wait too long.
    #[error("Telegram is unavailable")]
    Unavailable,
    #[error("shutting down")]
    Cancelled,
    /// Telegram refused the request; `kind` names the error without its text.
    #[error("Telegram refused the request ({kind})")]
    Refused { kind: &'static str },
}

/// The Bot API client with the retry rules above.
#[derive(Clone)]
pub struct Telegram {
    pub(crate) bot: Bot,
    shutdown: CancellationToken,
}

impl Telegram {
    pub fn new(bot: Bot, shutdown: CancellationToken) -> Self {
        Self { bot, shutdown }
    }

    pub fn bot(&self) -> &Bot {
        &self.bot
    }

    /// Resolves when the bot is shutting down.
    pub async fn cancelled(&self) {
        self.shutdown.cancelled().await;
    }

    /// Sends `request`, retrying 429s after `retry_after` and transient failures with backoff.
    pub async fn call<R>(&self, request: R) -> Result<Output<R>, TgError>
    where
        R: Request<Err = RequestError>,
    {
        let mut backoff = FIRST_BACKOFF;
        for attempt in 1..=MAX_ATTEMPTS {
            let wait = match request.send_ref().await {
                Ok(out) => return Ok(out),
                Err(RequestError::RetryAfter(secs)) => {
                    let wait = secs.duration();
                    tracing::warn!(seconds = wait.as_secs(), "Telegram asked to slow down");
                    if wait > MAX_RETRY_AFTER {
                        return Err(TgError::Unavailable);
                    }
                    wait
                }
                Err(err) => match classify(&err) {
                    Some(final_error) => return Err(final_error),
                    None => {
                        tracing::warn!(
                            attempt,
                            kind = kind(&err),
                            "Telegram call failed; retrying"
                        );
                        let wait = backoff;
                        backoff *= 2;
                        wait
                    }
                },
            };
            if attempt == MAX_ATTEMPTS {
                break;
            }
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.shutdown.cancelled() => return Err(TgError::Cancelled),
            }
        }
        Err(TgError::Unavailable)
    }
}

/// `Some` for errors that retrying cannot fix; `None` for transient ones.
fn classify(err: &RequestError) -> Option<TgError> {
    match err {
        RequestError::Api(api) => match api {
            ApiError::BotBlocked
            | ApiError::UserDeactivated
            | ApiError::BotKicked
            | ApiError::BotKickedFromSupergroup
            | ApiError::CantInitiateConversation
            | ApiError::CantTalkWithBots => Some(TgError::Blocked),
            ApiError::ChatNotFound => Some(TgError::ChatNotFound),
            ApiError::MessageNotModified => Some(TgError::NotModified),
            ApiError::MessageToEditNotFound
            | ApiError::MessageCantBeEdited
            | ApiError::MessageIdInvalid => Some(TgError::CannotEdit),
            // Telegram's 5xx answers arrive as errors teloxide does not know.
            ApiError::Unknown(_) => None,
            _ => Some(TgError::Refused { kind: "api error" }),
        },
        RequestError::Network(_) | RequestError::InvalidJson { .. } => None,
        RequestError::RetryAfter(_) => None,
        RequestError::MigrateToChatId(_) => Some(TgError::Refused {
            kind: "chat migrated",
        }),
        RequestError::Io(_) => Some(TgError::Refused { kind: "local I/O" }),
    }
}

/// A name for the error that holds neither Telegram's text nor the request URL.
pub(crate) fn kind(err: &RequestError) -> &'static str {
    match err {
        RequestError::Api(_) => "api error",
        RequestError::MigrateToChatId(_) => "chat migrated",
        RequestError::RetryAfter(_) => "flood control",
        RequestError::Network(_) => "network",
        RequestError::InvalidJson { .. } => "unreadable response",
        RequestError::Io(_) => "local I/O",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocking_and_missing_chats_are_final_and_server_errors_are_retried() {
        assert_eq!(
            classify(&RequestError::Api(ApiError::BotBlocked)),
            Some(TgError::Blocked)
        );
        assert_eq!(
            classify(&RequestError::Api(ApiError::ChatNotFound)),
            Some(TgError::ChatNotFound)
        );
        assert_eq!(
            classify(&RequestError::Api(ApiError::Unknown(
                "Internal Server Error".into()
            ))),
            None
        );
    }
}
