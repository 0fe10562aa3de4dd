//! The admins hear when a remote node goes offline or falls behind, and when it is back: every
//! `every`, the alerts the application claims as due go to each admin in `[telegram] admins`.
//! Claimed before sent, so an alert goes out at most once even across restarts and leaders.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::ctx::Ctx;
use crate::{node_health, BotError, TgError};

pub async fn run(ctx: Ctx, every: Duration, shutdown: CancellationToken) {
    loop {
        match send_due(&ctx).await {
            Ok(0) => {}
            Ok(sent) => tracing::info!(sent, "node alerts sent"),
            Err(BotError::Cancelled) => return,
            Err(err) => tracing::error!(error = %err, "node alerts could not be sent"),
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = shutdown.cancelled() => return,
        }
    }
}

/// Tells the admins every alert due now; returns how many messages went out.
async fn send_due(ctx: &Ctx) -> Result<usize, BotError> {
    let mut sent = 0;
    for alert in ctx.app.claim_node_alerts(ctx.now()).await? {
        let text = node_health::alert(&alert);
        // An admin's private chat id is their Telegram id.
        for admin in ctx.app.settings().admins.clone() {
            match ctx.send(admin, &text, None).await {
                Ok(_) => sent += 1,
                Err(TgError::Cancelled) => return Err(BotError::Cancelled),
                Err(err) => tracing::warn!(error = %err, "a node alert could not reach an admin"),
            }
        }
    }
    Ok(sent)
}
