//! Promo codes in the bot: `/promo CODE`, or the Promo code button and then the code. A
//! free-days code adds its days at once; a discount code shows the plans at its prices (a Stars
//! invoice button carrying the code, and card checkout links with the code filled in). The
//! code's use is recorded only when something is credited (`app::promo`).

use app::{Awaiting, PromoEntry};
use domain::{Plan, Promo, PromoBenefit, User};
use teloxide_core::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use crate::callback::Action;
use crate::ctx::{Ctx, Screen};
use crate::promo_texts;
use crate::texts::{self, texts};
use crate::{account, BotError};

/// `/promo` with or without a code after it.
pub fn is_command(text: &str) -> bool {
    text.split_whitespace().next() == Some("/promo")
}

/// `/promo CODE` enters the code; `/promo` alone asks for it.
pub async fn command(ctx: &Ctx, user: &User, chat: i64, text: &str) -> Result<(), BotError> {
    match text.split_whitespace().nth(1) {
        Some(code) => enter(ctx, user, chat, code).await,
        None => ask(ctx, user, chat, None).await,
    }
}

/// Waits for the code in the person's next message.
pub async fn ask(
    ctx: &Ctx,
    user: &User,
    chat: i64,
    message_id: Option<i32>,
) -> Result<(), BotError> {
    ctx.app
        .start_awaiting(user.id, Awaiting::Promo, ctx.now())
        .await?;
    let screen = crate::screens::prompt(user.language, promo_texts::prompt(user.language));
    account::show(ctx, user, chat, message_id, screen).await
}

/// Enters `typed` for the person and shows what it did.
pub async fn enter(ctx: &Ctx, user: &User, chat: i64, typed: &str) -> Result<(), BotError> {
    let now = ctx.now();
    ctx.app.end_conversation(user.id, now).await?;
    let language = user.language;
    let t = texts(language);
    let screen = match ctx.app.enter_promo(user, typed, now).await? {
        PromoEntry::DaysAdded { days, subscription } => {
            tracing::info!("a free-days promo code was redeemed");
            let notice = promo_texts::days_added(language, days, subscription.ends_at);
            account::my_subscription(ctx, user, Some(&notice)).await?
        }
        PromoEntry::Discount(promo) => offers(ctx, user, &promo).await?,
        PromoEntry::Refused(refusal) => Screen {
            text: promo_texts::refused(language, refusal).to_owned(),
            keyboard: InlineKeyboardMarkup::new([
                vec![button(promo_texts::button(language), Action::Promo)],
                vec![button(t.btn_back, Action::Menu)],
            ]),
        },
    };
    account::show(ctx, user, chat, None, screen).await
}

fn button(text: &str, action: Action) -> InlineKeyboardButton {
    InlineKeyboardButton::callback(text, action.encode())
}

/// The plans the discount applies to, at its prices: Stars invoices carrying the code and card
/// checkout links with it.
async fn offers(ctx: &Ctx, user: &User, promo: &Promo) -> Result<Screen, BotError> {
    let language = user.language;
    let PromoBenefit::Percent(percent) = promo.benefit else {
        return account::menu(ctx, user, None).await;
    };
    let token = ctx.app.subscription_token(user.id).await?;
    let stars = ctx.app.stars_plans();
    let cards = ctx.app.card_plans();
    let mut rows = Vec::new();
    for plan in ctx.app.settings().plans.iter() {
        if !promo.applies_to(&plan.id) {
            continue;
        }
        let priced = Plan {
            price_stars: plan.price_stars.and_then(|p| promo.discounted(p)),
            price_rub: plan.price_rub.and_then(|p| promo.discounted(p)),
            ..plan.clone()
        };
        let mut row = Vec::new();
        let action = Action::BuyPlanPromo(plan.id.clone(), promo.code.clone());
        if stars.iter().any(|p| p.id == plan.id) && action.fits() {
            row.push(button(&texts::plan_button(language, &priced), action));
        }
        if let (Some(token), true) = (&token, cards.iter().any(|p| p.id == plan.id)) {
            let link = ctx
                .app
                .card_checkout_url_with_promo(token, plan, &promo.code);
            if let Ok(url) = link.parse() {
                row.push(InlineKeyboardButton::url(
                    texts::card_button(language, &priced),
                    url,
                ));
            }
        }
        if !row.is_empty() {
            rows.push(row);
        }
    }
    rows.push(vec![button(texts(language).btn_back, Action::Menu)]);
    Ok(Screen {
        text: promo_texts::discount(language, &promo.code, percent),
        keyboard: InlineKeyboardMarkup::new(rows),
    })
}
