//! Telling a person in their chat that a payment they made outside the bot (by card, on
//! YooKassa's page) was credited: the same "paid" notice and My subscription screen a Stars
//! payment gets. And telling the admins about payments that needed them (refunded because the
//! payer had erased their account).

use app::App;
use domain::UserId;
use tokio_util::sync::CancellationToken;

use crate::{account, context, texts, BotError, BotOptions};

/// Sends the notice to `user`'s private chat, unless they are blocked by the operator or have
/// blocked the bot.
pub async fn announce_payment(
    app: App,
    options: &BotOptions,
    user: UserId,
    shutdown: CancellationToken,
) -> Result<(), BotError> {
    let ctx = context(app, options, shutdown)?;
    let Some(person) = ctx.app.reachable_person(user).await? else {
        return Ok(());
    };
    let Some(sub) = ctx.app.subscription(user).await? else {
        return Ok(());
    };
    let notice = texts::paid(person.language, sub.ends_at);
    let screen = account::my_subscription(&ctx, &person, Some(&notice)).await?;
    account::show(&ctx, &person, person.telegram_id.0, None, screen).await
}

/// Shows the buyer of a gift paid by card its code, in their private chat, unless they are
/// blocked by the operator or have blocked the bot.
pub async fn announce_gift(
    app: App,
    options: &BotOptions,
    buyer: UserId,
    code: domain::GiftCode,
    shutdown: CancellationToken,
) -> Result<(), BotError> {
    let ctx = context(app, options, shutdown)?;
    let Some(person) = ctx.app.reachable_person(buyer).await? else {
        return Ok(());
    };
    let text = crate::invites::gift_paid_text(&ctx, person.language, &code).await;
    let sent = ctx.send_to(&person, &text, None).await;
    ctx.delivered(Some(person.id), sent).await?;
    Ok(())
}

/// Tells `notice.user` what happened to their card auto-renewal (a declined charge, or that it
/// stopped), unless they are blocked by the operator or have blocked the bot.
pub async fn announce_renewal(
    app: App,
    options: &BotOptions,
    notice: &app::RenewalNotice,
    shutdown: CancellationToken,
) -> Result<(), BotError> {
    let ctx = context(app, options, shutdown)?;
    let Some(person) = ctx.app.reachable_person(notice.user).await? else {
        return Ok(());
    };
    let t = texts::texts(person.language);
    let screen = match notice.kind {
        app::RenewalNoticeKind::Declined { retries_left } => crate::screens::with_button(
            &texts::renewal_declined(person.language, retries_left),
            t.btn_renew,
            crate::callback::Action::Buy,
        ),
        app::RenewalNoticeKind::Stopped => crate::screens::with_button(
            texts::renewal_stopped(person.language),
            t.btn_renew,
            crate::callback::Action::Buy,
        ),
    };
    let sent = ctx
        .send_to(&person, &screen.text, Some(screen.keyboard))
        .await;
    ctx.delivered(Some(person.id), sent).await?;
    Ok(())
}

/// Sends `text` (plain, HTML-escaped here) to every admin in `[telegram] admins`; returns how
/// many got it. The caller keeps personal data out of `text`.
pub async fn announce_to_admins(
    app: App,
    options: &BotOptions,
    text: &str,
    shutdown: CancellationToken,
) -> Result<usize, BotError> {
    let ctx = context(app, options, shutdown)?;
    let text = texts::escape(text);
    let mut told = 0;
    // An admin's private chat id is their Telegram id.
    for admin in ctx.app.settings().admins.clone() {
        match ctx.send(admin, &text, None).await {
            Ok(_) => told += 1,
            Err(e) => tracing::warn!(error = %e, "could not tell an admin"),
        }
    }
    Ok(told)
}
