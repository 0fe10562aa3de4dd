//! Buying with Telegram Stars: an invoice in XTR (no provider token), the pre-checkout check,
//! and crediting `successful_payment` exactly once by its charge id, after which the person
//! sees their access at once. A payment nobody can be credited for is refunded. A 30-day
//! Stars plan is also sold as a Stars subscription (an invoice link with
//! `subscription_period`): each charge Telegram makes is credited the same way, once per charge
//! id, and our button cancels it with `editUserStarSubscription`.

use app::{CheckoutRefusal, StarsCredit, StarsPayload, STARS_CURRENCY};
use domain::{PlanId, PromoCode, User};
use teloxide_core::payloads::AnswerPreCheckoutQuerySetters as _;
use teloxide_core::payloads::CreateInvoiceLinkSetters as _;
use teloxide_core::requests::Requester as _;
use teloxide_core::types::{
    ChatId, InlineKeyboardButton, InlineKeyboardMarkup, LabeledPrice, Message, PreCheckoutQuery,
    Seconds, TelegramTransactionId, UserId as TgUserId,
};
use time::OffsetDateTime;

use crate::callback::Action;
use crate::ctx::Ctx;
use crate::dispatch::telegram_id;
use crate::offset::Hold;
use crate::texts::{self, texts};
use crate::{account, screens, BotError};

pub async fn send_invoice(
    ctx: &Ctx,
    user: &User,
    chat: i64,
    plan_id: &PlanId,
) -> Result<(), BotError> {
    send_invoice_with_promo(ctx, user, chat, plan_id, None).await
}

/// An invoice at the price discount code `promo` gives the person now (the code rides in the
/// payload); the full price without one.
pub async fn send_invoice_with_promo(
    ctx: &Ctx,
    user: &User,
    chat: i64,
    plan_id: &PlanId,
    promo: Option<&PromoCode>,
) -> Result<(), BotError> {
    let language = user.language;
    let plan = ctx.app.stars_plans().into_iter().find(|p| &p.id == plan_id);
    let payload = match &plan {
        Some(plan) => {
            ctx.app
                .stars_payload(user.id, plan, promo.map(PromoCode::as_str), ctx.now())
                .await?
        }
        None => None,
    };
    let (plan, payload) = match (plan, payload) {
        (Some(plan), Some(Ok(payload))) => (plan, payload),
        (_, Some(Err(refusal))) => {
            let t = texts(language);
            let screen = screens::with_button(
                crate::promo_texts::refused(language, refusal),
                t.btn_back,
                Action::Menu,
            );
            return account::show(ctx, user, chat, None, screen).await;
        }
        _ => {
            let token = ctx.app.subscription_token(user.id).await?;
            let screen = screens::buy(&ctx.app, language, token.as_ref());
            return account::show(ctx, user, chat, None, screen).await;
        }
    };
    let service = &ctx.app.settings().service_name;
    let invoice = StarsInvoice {
        title: texts::invoice_title(language, service, plan.days.0),
        description: texts::invoice_description(language, plan.days.0),
        payload: payload.encode(),
        stars: payload.stars,
    };
    invoice.send(ctx, user, chat).await
}

/// A Stars invoice as the bot sends it: one labelled price, the whole amount.
pub(crate) struct StarsInvoice {
    pub title: String,
    pub description: String,
    pub payload: String,
    pub stars: i64,
}

impl StarsInvoice {
    pub(crate) async fn send(self, ctx: &Ctx, user: &User, chat: i64) -> Result<(), BotError> {
        let amount = u32::try_from(self.stars).unwrap_or(u32::MAX);
        let request = ctx.tg.bot().send_invoice(
            ChatId(chat),
            self.title.clone(),
            self.description,
            self.payload,
            STARS_CURRENCY,
            [LabeledPrice::new(self.title, amount)],
        );
        let sent = ctx.tg.call(request).await;
        ctx.delivered(Some(user.id), sent).await?;
        Ok(())
    }
}

/// Sends a link to a monthly Stars subscription invoice for a 30-day Stars plan
/// (`createInvoiceLink` with `subscription_period`); anything else shows the Buy screen again.
pub async fn send_subscription_link(
    ctx: &Ctx,
    user: &User,
    chat: i64,
    plan_id: &PlanId,
) -> Result<(), BotError> {
    let language = user.language;
    let plan = ctx
        .app
        .stars_subscription_plans()
        .into_iter()
        .find(|p| &p.id == plan_id);
    let Some((plan, payload)) = plan.and_then(|p| StarsPayload::for_plan(&p).map(|pl| (p, pl)))
    else {
        let token = ctx.app.subscription_token(user.id).await?;
        let screen = screens::buy(&ctx.app, language, token.as_ref());
        return account::show(ctx, user, chat, None, screen).await;
    };
    let service = &ctx.app.settings().service_name;
    let title = texts::invoice_title(language, service, plan.days.0);
    let amount = u32::try_from(payload.stars).unwrap_or(u32::MAX);
    let request = ctx
        .tg
        .bot()
        .create_invoice_link(
            title.clone(),
            texts::invoice_description(language, plan.days.0),
            payload.encode(),
            STARS_CURRENCY,
            [LabeledPrice::new(title, amount)],
        )
        .subscription_period(Seconds::from_seconds(app::STARS_SUBSCRIPTION_PERIOD_SECS));
    let created = ctx.tg.call(request).await;
    let Some(link) = ctx.delivered(Some(user.id), created).await? else {
        return Ok(());
    };
    let Ok(url) = link.parse() else {
        tracing::warn!("Telegram answered createInvoiceLink with something that is not a URL");
        return Ok(());
    };
    let keyboard = InlineKeyboardMarkup::new([vec![InlineKeyboardButton::url(
        texts::btn_stars_subscribe(language),
        url,
    )]]);
    let sent = ctx
        .send(
            chat,
            texts::stars_subscription_offer(language),
            Some(keyboard),
        )
        .await;
    ctx.delivered(Some(user.id), sent).await?;
    Ok(())
}

/// Cancels the person's Stars subscription at Telegram (`editUserStarSubscription`), then
/// forgets it; the days already paid for stay. Returns what to tell them.
pub async fn cancel_stars_subscription(ctx: &Ctx, user: &User) -> Result<&'static str, BotError> {
    let Some(sub) = ctx.app.stars_subscription(user.id).await? else {
        return Ok(texts::stars_subscription_canceled(user.language));
    };
    let tg_user = u64::try_from(user.telegram_id.0).unwrap_or_default();
    let request = ctx.tg.bot().edit_user_star_subscription(
        TgUserId(tg_user),
        TelegramTransactionId(sub.charge_id),
        true,
    );
    let canceled = ctx.tg.call(request).await;
    if ctx.delivered(Some(user.id), canceled).await?.is_some() {
        ctx.app.forget_stars_subscription(user.id).await?;
        tracing::info!("a Stars subscription was canceled");
        return Ok(texts::stars_subscription_canceled(user.language));
    }
    Ok(texts(user.language).something_went_wrong)
}

/// Answers within Telegram's 10 seconds: ok only for a plan on sale at this price and a person
/// with an account who is not blocked.
pub async fn pre_checkout(ctx: &Ctx, query: &PreCheckoutQuery) -> Result<(), BotError> {
    let payer = telegram_id(&query.from);
    let verdict = ctx
        .app
        .check_stars_checkout(
            payer,
            &query.invoice_payload,
            &query.currency,
            i64::from(query.total_amount),
        )
        .await?;
    let language = match ctx.app.account_of(payer).await? {
        Some(user) => user.language,
        None => domain::Language::from_telegram_code(query.from.language_code.as_deref()),
    };
    let t = texts(language);
    let request = ctx
        .tg
        .bot()
        .answer_pre_checkout_query(query.id.clone(), verdict.is_ok());
    let request = match verdict {
        Ok(()) => request,
        Err(CheckoutRefusal::NotOffered) => request.error_message(t.checkout_not_offered),
        Err(CheckoutRefusal::NotAllowed) => request.error_message(t.checkout_not_allowed),
        Err(CheckoutRefusal::PromoNoLongerValid) => {
            request.error_message(crate::promo_texts::checkout_refused(language))
        }
    };
    tracing::info!(
        accepted = verdict.is_ok(),
        "a pre-checkout query was answered"
    );
    let answered = ctx.tg.call(request).await;
    ctx.delivered(None, answered).await?;
    Ok(())
}

/// Credits the payment once; tells the person only when this delivery did the crediting (or,
/// for a replay under a new update id, that it was credited already). `hold` (keeping the
/// update unconfirmed) is released once the payment is credited or refunded, before the
/// person is told, so a slow notice does not keep the offset back.
pub async fn successful_payment(
    ctx: &Ctx,
    message: &Message,
    first_delivery: bool,
    hold: &mut Option<Hold>,
) -> Result<(), BotError> {
    let (Some(payment), Some(from)) = (message.successful_payment(), message.from.as_ref()) else {
        return Ok(());
    };
    let payer = telegram_id(from);
    let now = ctx.now();
    let credit = ctx
        .app
        .credit_stars(
            payer,
            &payment.invoice_payload,
            &payment.currency,
            i64::from(payment.total_amount),
            &payment.telegram_payment_charge_id.0,
            now,
        )
        .await?;
    if !matches!(credit, StarsCredit::Uncreditable) {
        hold.take();
        if let Some(until) = payment.subscription_expiration_date {
            // A Stars subscription's payment: remember it for our "cancel" button.
            let until = OffsetDateTime::from_unix_timestamp(until.timestamp()).unwrap_or(now);
            ctx.app
                .note_stars_subscription(
                    payer,
                    &payment.invoice_payload,
                    &payment.telegram_payment_charge_id.0,
                    until,
                )
                .await?;
        }
    }
    let chat = message.chat.id.0;
    match credit {
        StarsCredit::Credited(sub) => {
            tracing::info!("a Stars payment was credited");
            let user = match ctx.app.user(sub.user_id).await {
                Ok(user) => user,
                Err(app::AppError::UserNotFound) => return Ok(()),
                Err(other) => return Err(other.into()),
            };
            let notice = texts::paid(user.language, sub.ends_at);
            let screen = account::my_subscription(ctx, &user, Some(&notice)).await?;
            account::show(ctx, &user, chat, None, screen).await
        }
        StarsCredit::GiftPaid(code) => {
            tracing::info!("a Stars payment for a gift was recorded");
            let Some(user) = ctx.app.account_of(payer).await? else {
                return Ok(());
            };
            let text = crate::invites::gift_paid_text(ctx, user.language, &code).await;
            let sent = ctx.send(chat, &text, None).await;
            ctx.delivered(Some(user.id), sent).await?;
            Ok(())
        }
        StarsCredit::AlreadyCredited => {
            tracing::info!("a Stars payment was delivered again and not credited twice");
            if !first_delivery {
                return Ok(());
            }
            let Some(user) = ctx.app.account_of(payer).await? else {
                return Ok(());
            };
            let t = texts(user.language);
            let screen = screens::with_button(t.paid_again, t.btn_my_sub, Action::MySubscription);
            account::show(ctx, &user, chat, None, screen).await
        }
        StarsCredit::Uncreditable => {
            tracing::warn!("a Stars payment could not be credited; refunding it");
            let refund = ctx.tg.bot().refund_star_payment(
                TgUserId(from.id.0),
                payment.telegram_payment_charge_id.clone(),
            );
            let refunded = ctx.tg.call(refund).await;
            hold.take();
            if ctx.delivered(None, refunded).await?.is_some() && first_delivery {
                let language = domain::Language::from_telegram_code(from.language_code.as_deref());
                let sent = ctx.send(chat, texts(language).payment_refunded, None).await;
                ctx.delivered(None, sent).await?;
            }
            Ok(())
        }
    }
}
