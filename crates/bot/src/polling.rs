//! Long polling: fetch updates with `getUpdates`, handle each in order, and confirm them with
//! the next call's offset. A restart asks Telegram again for whatever was not confirmed; the
//! store's record of handled update ids makes those act once.

use std::time::Duration;

use teloxide_core::payloads::GetUpdatesSetters as _;
use teloxide_core::requests::{Request as _, Requester as _};
use teloxide_core::types::BotCommand;
use tokio_util::sync::CancellationToken;

use crate::ctx::Ctx;
use crate::telegram::kind;
use crate::{dispatch, BotError, POLL_TIMEOUT};

/// Pause after a failed `getUpdates`, doubling up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(500);
const MAX_PAUSE: Duration = Duration::from_secs(30);

/// Registers the commands and, for polling, removes a webhook (which would block
/// `getUpdates`). Failures are logged and the bot starts anyway: polling retries on its own.
pub async fn prepare(ctx: &Ctx, polling: bool) {
    if polling {
        if let Err(err) = ctx.tg.call(ctx.tg.bot().delete_webhook()).await {
            tracing::warn!(error = %err, "could not remove the webhook");
        }
    }
    let commands = [
        BotCommand::new("start", "Menu / Меню"),
        BotCommand::new("menu", "Menu / Меню"),
    ];
    if let Err(err) = ctx.tg.call(ctx.tg.bot().set_my_commands(commands)).await {
        tracing::warn!(error = %err, "could not register the commands");
    }
}

pub async fn run(ctx: &Ctx, shutdown: CancellationToken) -> Result<(), BotError> {
    let mut offset: Option<i32> = None;
    let mut pause = FIRST_PAUSE;
    loop {
        let mut request = ctx
            .tg
            .bot()
            .get_updates()
            .timeout(u32::try_from(POLL_TIMEOUT.as_secs()).unwrap_or(25));
        if let Some(offset) = offset {
            request = request.offset(offset);
        }
        let fetched = tokio::select! {
            fetched = request.send() => fetched,
            () = shutdown.cancelled() => return Ok(()),
        };
        let updates = match fetched {
            Ok(updates) => {
                pause = FIRST_PAUSE;
                updates
            }
            Err(err) => {
                let wait = match &err {
                    teloxide_core::RequestError::RetryAfter(secs) => secs.duration(),
                    _ => pause,
                };
                tracing::warn!(kind = kind(&err), "getUpdates failed; waiting");
                pause = (pause * 2).min(MAX_PAUSE);
                tokio::select! {
                    () = tokio::time::sleep(wait) => continue,
                    () = shutdown.cancelled() => return Ok(()),
                }
            }
        };
        for update in updates {
            let id = update.id.0;
            if let Err(BotError::Cancelled) = dispatch::handle_with_retries(ctx, update).await {
                return Ok(());
            }
            offset = Some(i32::try_from(id).unwrap_or(i32::MAX).saturating_add(1));
        }
    }
}
