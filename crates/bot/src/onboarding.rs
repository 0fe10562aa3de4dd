//! The first contact: a greeting in the person's language that says what is kept and links the
//! privacy policy, then "I agree" or "Decline". **Nothing about the person is stored before
//! "I agree"**: the consent screen's language rides in the buttons' data, not in the store, and
//! declining leaves nothing behind.

use domain::{Language, StartParameter};
use teloxide_core::types::InlineKeyboardMarkup;

use crate::ctx::{Ctx, Screen};
use crate::dispatch::profile;
use crate::texts::texts;
use crate::{screens, BotError};

/// Anyone without an account who writes anything gets the consent screen.
pub async fn greet(
    ctx: &Ctx,
    chat: i64,
    from: &teloxide_core::types::User,
    parameter: Option<&StartParameter>,
) -> Result<(), BotError> {
    let language = Language::from_telegram_code(from.language_code.as_deref());
    let screen = screens::consent_with(&ctx.app, language, parameter);
    let sent = ctx.send(chat, &screen.text, Some(screen.keyboard)).await;
    ctx.delivered(None, sent).await?;
    Ok(())
}

pub async fn consent_screen(
    ctx: &Ctx,
    chat: i64,
    message_id: Option<i32>,
    language: Language,
    parameter: Option<&StartParameter>,
) -> Result<(), BotError> {
    let shown = ctx
        .show(
            chat,
            message_id,
            screens::consent_with(&ctx.app, language, parameter),
        )
        .await;
    ctx.delivered(None, shown).await?;
    Ok(())
}

/// "I agree": the account is created now, with the consent time, and the menu appears.
pub async fn agree(
    ctx: &Ctx,
    chat: i64,
    message_id: Option<i32>,
    from: &teloxide_core::types::User,
    language: Language,
    parameter: Option<&StartParameter>,
) -> Result<(), BotError> {
    let now = ctx.now();
    let user = ctx.app.sign_up(&profile(from), language, now).await?;
    tracing::info!("a person agreed to the privacy policy and signed up");
    let notice = match parameter {
        Some(p) => crate::invites::after_sign_up(ctx, &user, p).await?,
        None => None,
    };
    let subscription = ctx.app.subscription(user.id).await?;
    let screen = screens::menu(
        &ctx.app,
        &user,
        subscription.as_ref(),
        now,
        notice.as_deref(),
    );
    let shown = ctx.show(chat, message_id, screen).await;
    ctx.delivered(Some(user.id), shown).await?;
    Ok(())
}

/// "Decline": say that nothing was kept; nothing is written anywhere.
pub async fn decline(
    ctx: &Ctx,
    chat: i64,
    message_id: Option<i32>,
    language: Language,
) -> Result<(), BotError> {
    let screen = Screen {
        text: texts(language).declined.to_owned(),
        keyboard: InlineKeyboardMarkup::default(),
    };
    let shown = ctx.show(chat, message_id, screen).await;
    ctx.delivered(None, shown).await?;
    Ok(())
}
