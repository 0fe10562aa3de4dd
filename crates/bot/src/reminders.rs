//! Reminders a few days before a subscription ends and when it ends, with a renew button. Which
//! are due, and claiming each before it is sent so none goes out twice, is the application's
//! (`App::reminders_due`); this sends them. With card auto-renewal on, the reminder says a
//! charge is coming and its button switches auto-renewal off.

use std::time::Duration;

use app::ReminderKind;
use domain::User;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use crate::callback::Action;
use crate::ctx::Ctx;
use crate::texts::{self, texts};
use crate::{screens, BotError};

/// Sends due reminders every `every`, and forgets old handled update ids on the way.
pub async fn run(ctx: Ctx, every: Duration, days: Vec<u32>, shutdown: CancellationToken) {
    loop {
        if let Err(err) = ctx.app.forget_old_updates(ctx.now()).await {
            tracing::warn!(error = %err, "old update ids could not be pruned");
        }
        match send_due(&ctx, &days, ctx.now()).await {
            Ok(sent) if sent > 0 => tracing::info!(sent, "reminders sent"),
            Ok(_) => {}
            Err(BotError::Cancelled) => return,
            Err(err) => tracing::error!(error = %err, "reminders could not be sent"),
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = shutdown.cancelled() => return,
        }
    }
}

/// Sends every reminder due at `now` with reminders `days` before the end; returns how many
/// went out.
pub async fn send_due(ctx: &Ctx, days: &[u32], now: OffsetDateTime) -> Result<usize, BotError> {
    let mut sent = 0;
    for reminder in ctx.app.reminders_due(days, now).await? {
        if !ctx.app.claim_reminder(&reminder, now).await? {
            continue;
        }
        let user = &reminder.user;
        let auto_renews = ctx.app.auto_renewal(user.id).await?.is_some();
        let text = match reminder.kind {
            ReminderKind::DaysLeft(days_left) if auto_renews => {
                texts::reminder_auto_renew(user.language, days_left, reminder.ends_at)
            }
            ReminderKind::DaysLeft(days_left) => {
                texts::reminder(user.language, days_left, reminder.ends_at)
            }
            ReminderKind::Ended => texts(user.language).reminder_ended.to_owned(),
        };
        let delivered = if auto_renews && reminder.kind != ReminderKind::Ended {
            // A charge is coming: the one button stops it.
            let label = texts::btn_auto_renew_off(user.language);
            let screen = screens::with_button(&text, label, Action::AutoRenewOff);
            let sent = ctx.send_to(user, &screen.text, Some(screen.keyboard)).await;
            ctx.delivered(Some(user.id), sent).await?.is_some()
        } else {
            notify(ctx, user, &text).await?
        };
        if delivered {
            sent += 1;
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
    let sent = ctx.send_to(user, &screen.text, Some(screen.keyboard)).await;
    Ok(ctx.delivered(Some(user.id), sent).await?.is_some())
}
