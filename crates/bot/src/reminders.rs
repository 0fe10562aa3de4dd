//! Reminders a few days before a subscription ends and when it ends, with a renew button. Each
//! is claimed in the store before it is sent, so none goes out twice, even across restarts.

use std::time::Duration;

use domain::User;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use crate::callback::Action;
use crate::ctx::Ctx;
use crate::texts::{self, texts};
use crate::{screens, BotError};

/// The kind recorded for the reminder sent when a subscription has ended.
const ENDED: &str = "ended";
/// How late an "ended" reminder may still go out (after downtime, say).
const ENDED_GRACE: time::Duration = time::Duration::days(1);

/// How long handled update ids are remembered: Telegram redelivers for at most a day.
const UPDATE_MEMORY: time::Duration = time::Duration::days(2);

/// Sends due reminders every `every`, and forgets handled update ids older than
/// [`UPDATE_MEMORY`] on the way.
pub async fn run(ctx: Ctx, every: Duration, days: Vec<u32>, shutdown: CancellationToken) {
    loop {
        if let Err(err) = ctx
            .app
            .store()
            .prune_updates(ctx.now() - UPDATE_MEMORY)
            .await
        {
            tracing::warn!(error = %err, "old update ids could not be pruned");
        }
        match send_due(&ctx, &days, ctx.now()).await {
            Ok(sent) if sent > 0 => tracing::info!(sent, "reminders sent"),
            Ok(_) => {}
            Err(BotError::Cancelled) => return,
            Err(err) => tracing::error!(error = %err.for_log(), "reminders could not be sent"),
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = shutdown.cancelled() => return,
        }
    }
}

/// Sends every reminder due at `now`; returns how many went out.
pub async fn send_due(ctx: &Ctx, days: &[u32], now: OffsetDateTime) -> Result<usize, BotError> {
    let mut sent = 0;
    let mut leads: Vec<u32> = days.iter().copied().filter(|d| *d > 0).collect();
    leads.sort_unstable();
    let Some(longest) = leads.last().copied() else {
        return ended(ctx, now).await;
    };
    let horizon = now + time::Duration::days(i64::from(longest));
    for (user, sub) in ctx.app.store().subscriptions_ending(now, horizon).await? {
        let left = sub.ends_at - now;
        // Every lead whose window the end falls in is claimed, so a longer one never follows
        // a shorter; one message says how many days are left.
        let mut claimed = false;
        for lead in leads.iter().rev() {
            if left <= time::Duration::days(i64::from(*lead)) {
                let kind = format!("{lead}d");
                claimed |= ctx
                    .app
                    .store()
                    .claim_reminder(user.id, &kind, sub.ends_at, now)
                    .await?;
            }
        }
        if claimed {
            let days_left = u32::try_from((left.whole_hours() + 23) / 24)
                .unwrap_or(1)
                .max(1);
            let text = texts::reminder(user.language, days_left, sub.ends_at);
            if notify(ctx, &user, &text).await? {
                sent += 1;
            }
        }
    }
    Ok(sent + ended(ctx, now).await?)
}

async fn ended(ctx: &Ctx, now: OffsetDateTime) -> Result<usize, BotError> {
    let mut sent = 0;
    let ending = ctx
        .app
        .store()
        .subscriptions_ending(now - ENDED_GRACE, now)
        .await?;
    for (user, sub) in ending {
        if ctx
            .app
            .store()
            .claim_reminder(user.id, ENDED, sub.ends_at, now)
            .await?
        {
            let text = texts(user.language).reminder_ended;
            if notify(ctx, &user, text).await? {
                sent += 1;
            }
        }
    }
    Ok(sent)
}

async fn notify(ctx: &Ctx, user: &User, text: &str) -> Result<bool, BotError> {
    let t = texts(user.language);
    let screen = if !screens::sells_anything(&ctx.app) {
        screens::with_button(text, t.btn_back, Action::Menu)
    } else {
        screens::with_button(text, t.btn_renew, Action::Buy)
    };
    let sent = ctx
        .send(user.telegram_id.0, &screen.text, Some(screen.keyboard))
        .await;
    Ok(ctx.delivered(Some(user.id), sent).await?.is_some())
}
