//! Sends broadcasts (started in the web panel or with `/broadcast`) from the leader, one job at
//! a time, each message paced within Telegram's limits; people who blocked the bot are marked
//! and skipped from then on. The job's cursor lives in the store, so after a restart or a change
//! of leader the next runner continues where this one stopped. The admin hears when it is done.

use std::time::Duration;

use app::BroadcastRecipient;
use domain::{BroadcastAudience, BroadcastOutcome};
use tokio_util::sync::CancellationToken;

use crate::ctx::Ctx;
use crate::texts::escape;
use crate::{BotError, TgError};

/// Pause between broadcast messages: Telegram allows about 30 messages a second in all.
const BROADCAST_PACE: Duration = Duration::from_millis(40);

/// How often the runner looks for a new broadcast.
const LOOK_EVERY: Duration = Duration::from_secs(1);

pub async fn run(ctx: Ctx, shutdown: CancellationToken) {
    loop {
        match send_next(&ctx).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(BotError::Cancelled) => return,
            Err(err) => tracing::error!(error = %err, "a broadcast stopped; retrying"),
        }
        tokio::select! {
            () = tokio::time::sleep(LOOK_EVERY) => {}
            () = shutdown.cancelled() => return,
        }
    }
}

/// Sends the oldest unfinished broadcast to its end; false when there was none.
async fn send_next(ctx: &Ctx) -> Result<bool, BotError> {
    let Some(job) = ctx.app.next_broadcast().await? else {
        return Ok(false);
    };
    let text = escape(&job.body);
    while let Some(recipient) = ctx.app.claim_broadcast_recipient(job.id, ctx.now()).await? {
        let sent = match &recipient {
            BroadcastRecipient::Person(user) => ctx.send_to(user, &text, None).await,
            BroadcastRecipient::Admin(admin) => ctx.send(admin.0, &text, None).await,
        };
        let outcome = match sent {
            Ok(_) => BroadcastOutcome::Delivered,
            // Telegram's 403 (blocked, deactivated, ...), recognised as everywhere else.
            Err(TgError::Blocked) => {
                if let BroadcastRecipient::Person(user) = &recipient {
                    ctx.note_unreachable(user.id).await?;
                }
                BroadcastOutcome::BlockedBot
            }
            Err(TgError::Cancelled) => return Err(BotError::Cancelled),
            Err(err) => {
                tracing::warn!(error = %err, "a broadcast message could not be delivered");
                BroadcastOutcome::Failed
            }
        };
        ctx.app.count_broadcast_message(job.id, outcome).await?;
        tokio::time::sleep(BROADCAST_PACE).await;
    }
    if job.audience != BroadcastAudience::Preview {
        let done = ctx.app.broadcast(job.id).await?.unwrap_or(job);
        tracing::info!(
            sent = done.sent,
            blocked = done.blocked,
            failed = done.failed,
            "a broadcast finished"
        );
        let report = format!(
            "Broadcast #{} done: {} delivered, {} blocked the bot, {} other failures.",
            done.id, done.sent, done.blocked, done.failed
        );
        if let Err(err) = ctx.send(done.admin.0, &report, None).await {
            tracing::warn!(error = %err, "the broadcast report could not be sent");
        }
    }
    Ok(true)
}
