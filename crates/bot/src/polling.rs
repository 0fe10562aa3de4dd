//! Long polling: fetch updates with `getUpdates` (read one by one, so an unreadable update is
//! skipped and counted instead of stopping everything behind it), hand them to the intake
//! (claims, lanes, the fast path) and confirm them with the next call's offset once accepted
//! (see [`crate::offset`] for why that is safe). A restart asks Telegram again for whatever was
//! not confirmed; the store's claims make those act once.

use std::time::Duration;

use teloxide_core::requests::Requester as _;
use teloxide_core::types::BotCommand;
use tokio_util::sync::CancellationToken;

use crate::ctx::Ctx;
use crate::fetch::{self, FetchError};
use crate::incoming::Incoming;
use crate::intake::{is_pre_checkout, Intake};
use crate::offset::Offset;
use crate::{BotError, BotMetrics, POLL_TIMEOUT};

/// Pause after a failed `getUpdates`, doubling up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(500);
const MAX_PAUSE: Duration = Duration::from_secs(30);
/// While a held payment keeps Telegram handing out updates accepted already, how often to look
/// again even if no hold was released.
const HELD_RECHECK: Duration = Duration::from_secs(1);
/// How long queued updates may still be handled after shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Registers the commands and, for polling, removes a webhook (which would block
/// `getUpdates`). Failures are logged and the bot starts anyway: polling retries on its own.
pub async fn prepare(ctx: &Ctx, polling: bool) {
    if polling {
        if let Err(err) = ctx.tg.call(ctx.tg.bot().delete_webhook()).await {
            tracing::warn!(error = %err, "could not remove the webhook");
        }
    }
    // English for everyone, Russian for people whose Telegram speaks Russian.
    for (language, menu) in [(None, &COMMANDS_EN), (Some("ru"), &COMMANDS_RU)] {
        let commands = menu
            .iter()
            .map(|(name, what)| BotCommand::new(*name, *what));
        let mut request = ctx.tg.bot().set_my_commands(commands);
        request.language_code = language.map(str::to_owned);
        if let Err(err) = ctx.tg.call(request).await {
            tracing::warn!(error = %err, "could not register the commands");
        }
    }
}

/// The bot's command menu: every command a person may type (the admins' are not listed).
const COMMANDS_EN: [(&str, &str); 4] = [
    ("start", "Menu"),
    ("menu", "Menu"),
    ("promo", "Enter a promo code"),
    ("gift", "Redeem a gift code"),
];
const COMMANDS_RU: [(&str, &str); 4] = [
    ("start", "Меню"),
    ("menu", "Меню"),
    ("promo", "Ввести промокод"),
    ("gift", "Активировать подарочный код"),
];

/// Polls until `shutdown`, then lets the lanes finish for up to [`SHUTDOWN_GRACE`].
pub async fn run(
    ctx: &Ctx,
    metrics: BotMetrics,
    shutdown: CancellationToken,
) -> Result<(), BotError> {
    let intake = Intake::new(ctx.clone(), metrics);
    let mut offset = Offset::default();
    let mut pause = FIRST_PAUSE;
    loop {
        let next = offset.next(intake.holds().lowest());
        let fetched = tokio::select! {
            fetched = fetch::get_updates(ctx.tg.bot(), next, POLL_TIMEOUT) => fetched,
            () = shutdown.cancelled() => break,
        };
        let wait = match fetched {
            Ok(updates) => match accept_batch(&intake, &mut offset, updates).await {
                Progress::Accepted => {
                    pause = FIRST_PAUSE;
                    continue;
                }
                // Telegram handed out again what a held payment keeps unconfirmed: wait for
                // it rather than fetching the same batch in a tight loop.
                Progress::Repeated => {
                    tokio::select! {
                        () = intake.holds().released() => {}
                        () = tokio::time::sleep(HELD_RECHECK) => {}
                        () = shutdown.cancelled() => break,
                    }
                    continue;
                }
                Progress::Stalled => pause,
            },
            Err(FetchError::RetryAfter(wait)) => {
                tracing::warn!(
                    seconds = wait.as_secs(),
                    "getUpdates: Telegram asked to slow down"
                );
                wait
            }
            Err(FetchError::Failed { kind }) => {
                tracing::warn!(kind, "getUpdates failed; waiting");
                pause
            }
        };
        pause = (pause * 2).min(MAX_PAUSE);
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = shutdown.cancelled() => break,
        }
    }
    intake.lanes().drain(SHUTDOWN_GRACE).await;
    Ok(())
}

/// How a batch went.
enum Progress {
    /// Something new was accepted (or the batch was empty).
    Accepted,
    /// Every update in it was accepted before.
    Repeated,
    /// A claim failed (the store is unreachable): the rest waits for the next fetch.
    Stalled,
}

/// Accepts a batch: pre-checkout queries first (Telegram waits for their answer), then the
/// rest claimed in one statement and handed on in order. A failed claim accepts none of the
/// rest: the offset stays before them and they are fetched again.
async fn accept_batch(intake: &Intake, offset: &mut Offset, batch: Vec<Incoming>) -> Progress {
    let mut new = batch.is_empty();
    for incoming in &batch {
        if let Incoming::Update(update) = incoming {
            let id = i64::from(update.id.0);
            if is_pre_checkout(update)
                && offset.is_new(id)
                && intake.accept(update.as_ref().clone()).await.is_ok()
            {
                offset.accept(id);
                new = true;
            }
        }
    }
    let to_claim: Vec<i64> = batch
        .iter()
        .filter_map(|incoming| match incoming {
            Incoming::Update(update) => Some(i64::from(update.id.0)),
            Incoming::Unreadable { .. } => None,
        })
        .filter(|id| offset.is_new(*id))
        .collect();
    let first_time = match intake.claim_all(&to_claim).await {
        Ok(first_time) => first_time,
        Err(err) => {
            tracing::error!(error = %err, "updates could not be claimed");
            return Progress::Stalled;
        }
    };
    for incoming in batch {
        match incoming {
            Incoming::Unreadable { id } => {
                if id.is_none_or(|id| offset.is_new(id)) {
                    intake.unreadable(id);
                    new = true;
                }
                if let Some(id) = id {
                    offset.accept(id);
                    offset.accepted_through(id);
                }
            }
            Incoming::Update(update) => {
                let id = i64::from(update.id.0);
                if offset.is_new(id) {
                    // A held payment is not confirmed through the offset but by its release.
                    let _ = intake.hand_on(*update, first_time.contains(&id));
                    offset.accept(id);
                    new = true;
                }
                offset.accepted_through(id);
            }
        }
    }
    if new {
        Progress::Accepted
    } else {
        Progress::Repeated
    }
}
