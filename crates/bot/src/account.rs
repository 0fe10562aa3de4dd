//! A signed-up person's menu: My subscription (link, QR code, guides, rotation), the free trial,
//! language, and Privacy & my data (export, email, deletion, and a link to the same on the
//! website). Text messages are read according to the conversation state kept in the store, so a
//! restart in the middle loses nothing.

use app::{Awaiting, MySubscription, TrialResult};
use domain::{Email, Language, User};
use teloxide_core::payloads::SendDocumentSetters as _;
use teloxide_core::payloads::SendPhotoSetters as _;
use teloxide_core::requests::Requester as _;
use teloxide_core::types::{ChatId, InputFile, Message};

use crate::callback::Action;
use crate::ctx::{Ctx, Screen};
use crate::texts::{self, texts};
use crate::{account_link, invites, payments, promo, qr, screens, support, BotError};

/// A text (or anything else) from a person with an account.
pub async fn on_text(ctx: &Ctx, user: &User, message: &Message) -> Result<(), BotError> {
    let chat = message.chat.id.0;
    let text = message.text().map(str::trim);
    if let Some(command) = text.filter(|t| t.starts_with('/')) {
        if let Some(parameter) = invites::start_parameter(Some(command)) {
            ctx.app.end_conversation(user.id, ctx.now()).await?;
            return invites::start_for_member(ctx, user, chat, &parameter).await;
        }
        if let Some(code) = invites::gift_command(Some(command)) {
            ctx.app.end_conversation(user.id, ctx.now()).await?;
            return match code {
                Ok(code) => invites::redeem(ctx, user, chat, &code).await,
                Err(()) => {
                    let notice = crate::invite_texts::gift_not_redeemable(user.language);
                    show(ctx, user, chat, None, menu(ctx, user, Some(notice)).await?).await
                }
            };
        }
        if command.starts_with("/start") || command.starts_with("/menu") {
            ctx.app.end_conversation(user.id, ctx.now()).await?;
            return show(ctx, user, chat, None, menu(ctx, user, None).await?).await;
        }
        if promo::is_command(command) {
            return promo::command(ctx, user, chat, command).await;
        }
    }
    match ctx.app.awaiting(user.id).await? {
        Some(Awaiting::Email) => set_email(ctx, user, chat, text).await,
        Some(Awaiting::Support) => support::user_message(ctx, user, chat, text).await,
        Some(Awaiting::Promo) => promo::enter(ctx, user, chat, text.unwrap_or_default()).await,
        None => show(ctx, user, chat, None, menu(ctx, user, None).await?).await,
    }
}

pub async fn on_action(
    ctx: &Ctx,
    user: &User,
    chat: i64,
    message_id: Option<i32>,
    action: Action,
) -> Result<(), BotError> {
    let now = ctx.now();
    let language = user.language;
    let t = texts(language);
    let screen = match action {
        Action::Agree(_)
        | Action::AgreeWith(..)
        | Action::Decline(_)
        | Action::ConsentLanguage(_)
        | Action::ConsentLanguageWith(..)
        | Action::Menu
        | Action::Cancel => {
            ctx.app.end_conversation(user.id, now).await?;
            menu(ctx, user, None).await?
        }
        Action::Buy => {
            let token = ctx.app.subscription_token(user.id).await?;
            screens::buy(&ctx.app, language, token.as_ref())
        }
        Action::BuyPlan(plan) => return payments::send_invoice(ctx, user, chat, &plan).await,
        Action::BuyPlanPromo(plan, code) => {
            return payments::send_invoice_with_promo(ctx, user, chat, &plan, Some(&code)).await
        }
        Action::Promo => return promo::ask(ctx, user, chat, message_id).await,
        Action::Invite => invites::invite_screen(ctx, user).await?,
        Action::Gifts => invites::gifts_screen(ctx, user).await?,
        Action::GiftPlan(plan) => {
            return invites::send_gift_invoice(ctx, user, chat, &plan).await;
        }
        Action::MySubscription => my_subscription(ctx, user, None).await?,
        Action::Guide(platform) => match subscription_url(ctx, user).await? {
            Some(url) => screens::guide(language, platform, &url),
            None => screens::no_subscription(&ctx.app, language),
        },
        Action::Qr => return send_qr(ctx, user, chat).await,
        Action::Rotate => screens::confirm(
            language,
            t.rotate_warning,
            (t.btn_rotate_confirm, Action::RotateConfirm),
            Action::MySubscription,
        ),
        Action::RotateConfirm => {
            ctx.app.rotate_subscription_token(user.id).await?;
            tracing::info!("a subscription link was rotated");
            my_subscription(ctx, user, Some(t.rotated)).await?
        }
        Action::Trial => trial(ctx, user).await?,
        Action::Support => {
            ctx.app
                .start_awaiting(user.id, Awaiting::Support, now)
                .await?;
            screens::prompt(language, t.support_prompt)
        }
        Action::Privacy => screens::privacy(user, None),
        Action::Export => return export(ctx, user, chat).await,
        Action::SetEmail => {
            ctx.app
                .start_awaiting(user.id, Awaiting::Email, now)
                .await?;
            screens::prompt(language, t.email_prompt)
        }
        Action::RemoveEmail => {
            ctx.app.set_email(user, None).await?;
            let user = refreshed(ctx, user).await?;
            screens::privacy(&user, Some(t.email_removed))
        }
        Action::Delete => screens::confirm(
            language,
            t.delete_warning,
            (t.btn_delete_confirm, Action::DeleteConfirm),
            Action::Privacy,
        ),
        Action::Withdraw => screens::confirm(
            language,
            t.withdraw_warning,
            (t.btn_delete_confirm, Action::DeleteConfirm),
            Action::Privacy,
        ),
        Action::DeleteConfirm => return delete(ctx, user, chat, message_id).await,
        Action::AccountLink => return account_link::give(ctx, user, chat).await,
        Action::StarsSubscribe(plan) => {
            return payments::send_subscription_link(ctx, user, chat, &plan).await
        }
        Action::StarsCancel => {
            let notice = payments::cancel_stars_subscription(ctx, user).await?;
            my_subscription(ctx, user, Some(notice)).await?
        }
        Action::AutoRenewOff => {
            ctx.app.switch_off_auto_renewal(user.id).await?;
            let notice = texts::auto_renew_switched_off(language);
            my_subscription(ctx, user, Some(notice)).await?
        }
        Action::LanguageMenu => screens::language_menu(language),
        Action::SetLanguage(chosen) => {
            ctx.app.set_language(user, chosen).await?;
            let user = refreshed(ctx, user).await?;
            menu(ctx, &user, None).await?
        }
    };
    show(ctx, user, chat, message_id, screen).await
}

/// Shows a screen to a person, marking them unreachable if they blocked the bot.
pub async fn show(
    ctx: &Ctx,
    user: &User,
    chat: i64,
    message_id: Option<i32>,
    screen: Screen,
) -> Result<(), BotError> {
    let shown = ctx.show(chat, message_id, screen).await;
    ctx.delivered(Some(user.id), shown).await?;
    Ok(())
}

async fn refreshed(ctx: &Ctx, user: &User) -> Result<User, BotError> {
    Ok(ctx.app.user(user.id).await?)
}

pub async fn menu(ctx: &Ctx, user: &User, notice: Option<&str>) -> Result<Screen, BotError> {
    let subscription = ctx.app.subscription(user.id).await?;
    Ok(screens::menu(
        &ctx.app,
        user,
        subscription.as_ref(),
        ctx.now(),
        notice,
    ))
}

async fn subscription_url(ctx: &Ctx, user: &User) -> Result<Option<String>, BotError> {
    Ok(ctx.app.my_subscription(user.id).await?.map(|mine| mine.url))
}

pub async fn my_subscription(
    ctx: &Ctx,
    user: &User,
    notice: Option<&str>,
) -> Result<Screen, BotError> {
    let screen = match ctx.app.my_subscription(user.id).await? {
        Some(MySubscription { subscription, url }) => screens::my_subscription(
            &ctx.app,
            user.language,
            &subscription,
            &url,
            ctx.now(),
            notice,
        ),
        None => screens::no_subscription(&ctx.app, user.language),
    };
    let screen = match ctx.app.auto_renewal(user.id).await? {
        Some(renewal) => screens::with_auto_renewal(screen, user.language, &renewal.plan.0),
        None => screen,
    };
    Ok(match ctx.app.stars_subscription(user.id).await? {
        Some(sub) if sub.renews_until > ctx.now() => {
            screens::with_stars_subscription(screen, user.language, sub.renews_until)
        }
        _ => screen,
    })
}

async fn trial(ctx: &Ctx, user: &User) -> Result<Screen, BotError> {
    let claim_key = ctx.trial_key.claim_key(user.telegram_id);
    let t = texts(user.language);
    match ctx.app.claim_trial(&claim_key, user, ctx.now()).await? {
        TrialResult::Granted(sub) => {
            tracing::info!("a free trial was granted");
            let days = ctx.app.trial_days().map(|d| d.0).unwrap_or_default();
            let notice = texts::trial_granted(user.language, days, sub.ends_at);
            my_subscription(ctx, user, Some(&notice)).await
        }
        TrialResult::AlreadyUsed => menu(ctx, user, Some(t.trial_used)).await,
        TrialResult::Disabled | TrialResult::Blocked => menu(ctx, user, None).await,
    }
}

async fn send_qr(ctx: &Ctx, user: &User, chat: i64) -> Result<(), BotError> {
    let Some(url) = subscription_url(ctx, user).await? else {
        let screen = screens::no_subscription(&ctx.app, user.language);
        return show(ctx, user, chat, None, screen).await;
    };
    let png = match qr::png(&url) {
        Ok(png) => png,
        Err(err) => {
            tracing::error!(error = %err, "cannot draw the QR code");
            let t = texts(user.language);
            let screen = screens::with_button(t.something_went_wrong, t.btn_back, Action::Menu);
            return show(ctx, user, chat, None, screen).await;
        }
    };
    let request = ctx
        .tg
        .bot()
        .send_photo(
            ChatId(chat),
            InputFile::memory(png).file_name("subscription.png"),
        )
        .caption(texts(user.language).qr_caption);
    let sent = ctx.tg.call(request).await;
    ctx.delivered(Some(user.id), sent).await?;
    Ok(())
}

async fn export(ctx: &Ctx, user: &User, chat: i64) -> Result<(), BotError> {
    let document = ctx.app.export_everything(user.id).await?;
    let bytes =
        serde_json::to_vec_pretty(&document).map_err(|e| app::AppError::Export(e.to_string()))?;
    let request = ctx
        .tg
        .bot()
        .send_document(
            ChatId(chat),
            InputFile::memory(bytes).file_name("my-data.json"),
        )
        .caption(texts(user.language).export_caption);
    let sent = ctx.tg.call(request).await;
    ctx.delivered(Some(user.id), sent).await?;
    tracing::info!("a person exported their data");
    Ok(())
}

async fn set_email(ctx: &Ctx, user: &User, chat: i64, text: Option<&str>) -> Result<(), BotError> {
    let t = texts(user.language);
    let Some(email) = text.and_then(|t| t.parse::<Email>().ok()) else {
        let screen = screens::prompt(user.language, t.email_invalid);
        return show(ctx, user, chat, None, screen).await;
    };
    ctx.app.set_email(user, Some(&email)).await?;
    ctx.app.end_conversation(user.id, ctx.now()).await?;
    let user = refreshed(ctx, user).await?;
    show(
        ctx,
        &user,
        chat,
        None,
        screens::privacy(&user, Some(t.email_saved)),
    )
    .await
}

/// Erases the person (after the confirmation step); what remains is the goodbye message.
async fn delete(
    ctx: &Ctx,
    user: &User,
    chat: i64,
    message_id: Option<i32>,
) -> Result<(), BotError> {
    let language: Language = user.language;
    ctx.app.erase_person(user.id).await?;
    tracing::info!("a person deleted their account");
    let screen = Screen {
        text: texts(language).deleted.to_owned(),
        keyboard: Default::default(),
    };
    // The person is gone from the store: a failed send has nobody left to mark.
    let shown = ctx.show(chat, message_id, screen).await;
    ctx.delivered(None, shown).await?;
    Ok(())
}
