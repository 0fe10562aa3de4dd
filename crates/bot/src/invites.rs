//! Referrals and gifts in the bot: the start links (`?start=ref_<code>`, `?start=gift_<code>`),
//! the invite screen (the person's link and counts, never who), buying a plan as a gift
//! (a Stars invoice with a `gift:` payload, or the card checkout with `gift=1`), the code shown
//! to the buyer once paid, and redeeming one (`/gift CODE` or the link).

use app::{Redeemed, ReferralJoin, StarsPayload};
use domain::{bot_start_link, GiftCode, Language, PlanId, StartParameter, User};
use teloxide_core::requests::Requester as _;
use teloxide_core::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use crate::callback::Action;
use crate::ctx::{Ctx, Screen};
use crate::invite_texts as it;
use crate::texts::{self, texts};
use crate::{account, screens, BotError};

/// The start parameter of a `/start` message, if it carries one of ours.
pub fn start_parameter(text: Option<&str>) -> Option<StartParameter> {
    let rest = text?.trim().strip_prefix("/start")?;
    StartParameter::parse(rest.trim())
}

/// The code of a `/gift CODE` message (also `/gift@bot CODE`).
pub fn gift_command(text: Option<&str>) -> Option<Result<GiftCode, ()>> {
    let text = text?.trim();
    let rest = text.strip_prefix("/gift")?;
    let rest = match rest.strip_prefix('@') {
        Some(after) => after.split_once(' ').map(|(_, code)| code).unwrap_or(""),
        None if rest.is_empty() || rest.starts_with(' ') => rest,
        None => return None,
    };
    Some(rest.trim().parse().map_err(|_| ()))
}

/// The bot's @username for `t.me` links; `None` if Telegram does not say.
async fn bot_username(ctx: &Ctx) -> Option<String> {
    match ctx.tg.call(ctx.tg.bot().get_me()).await {
        Ok(me) => me.user.username.clone(),
        Err(e) => {
            tracing::warn!(error = %e, "getMe failed; a link is shown without the bot's name");
            None
        }
    }
}

fn button(text: &str, action: Action) -> InlineKeyboardButton {
    InlineKeyboardButton::callback(text, action.encode())
}

/// The menu's extra rows: invite (when referrals are on) and gifts (when anything is sold).
pub fn menu_rows(ctx_app: &app::App, language: Language) -> Vec<Vec<InlineKeyboardButton>> {
    let mut rows = Vec::new();
    if ctx_app.settings().referrals.enabled {
        rows.push(vec![button(it::btn_invite(language), Action::Invite)]);
    }
    if screens::sells_anything(ctx_app) {
        rows.push(vec![button(it::btn_gift(language), Action::Gifts)]);
    }
    rows
}

/// The invite screen.
pub async fn invite_screen(ctx: &Ctx, user: &User) -> Result<Screen, BotError> {
    let Some(mine) = ctx.app.my_referrals(user, ctx.now()).await? else {
        return account::menu(ctx, user, None).await;
    };
    let link = bot_username(ctx)
        .await
        .map(|bot| bot_start_link(&bot, &StartParameter::Referral(mine.code.clone())));
    Ok(Screen {
        text: it::referral_screen(
            user.language,
            link.as_deref(),
            mine.reward_days,
            mine.stats.joined,
            mine.stats.paid,
        ),
        keyboard: InlineKeyboardMarkup::new([vec![button(
            texts(user.language).btn_back,
            Action::Menu,
        )]]),
    })
}

/// The gifts screen: each plan as a gift for Stars and, by card, through the checkout link.
pub async fn gifts_screen(ctx: &Ctx, user: &User) -> Result<Screen, BotError> {
    let language = user.language;
    let token = ctx.app.subscription_token(user.id).await?;
    let stars = ctx.app.stars_plans();
    let card = ctx.app.card_plans();
    let mut rows = Vec::new();
    for plan in ctx.app.settings().plans.iter() {
        let mut row = Vec::new();
        if stars.iter().any(|p| p.id == plan.id) {
            row.push(button(
                &texts::plan_button(language, plan),
                Action::GiftPlan(plan.id.clone()),
            ));
        }
        if let (Some(token), true) = (token.as_ref(), card.iter().any(|p| p.id == plan.id)) {
            if let Ok(url) = ctx.app.card_gift_checkout_url(token, plan).parse() {
                row.push(InlineKeyboardButton::url(
                    texts::card_button(language, plan),
                    url,
                ));
            }
        }
        if !row.is_empty() {
            rows.push(row);
        }
    }
    let mut text = it::gift_screen(language, !rows.is_empty()).to_owned();
    let waiting: Vec<(String, u32)> = ctx
        .app
        .unredeemed_gifts(user)
        .await?
        .into_iter()
        .filter_map(|g| Some((g.code?, g.days)))
        .collect();
    if !waiting.is_empty() {
        text.push_str(&it::unredeemed(language, &waiting));
    }
    rows.push(vec![button(texts(language).btn_back, Action::Menu)]);
    Ok(Screen {
        text,
        keyboard: InlineKeyboardMarkup::new(rows),
    })
}

/// A Stars invoice for `plan_id` bought as a gift.
pub async fn send_gift_invoice(
    ctx: &Ctx,
    user: &User,
    chat: i64,
    plan_id: &PlanId,
) -> Result<(), BotError> {
    let language = user.language;
    let plan = ctx.app.stars_plans().into_iter().find(|p| &p.id == plan_id);
    let Some((plan, payload)) = plan.and_then(|p| StarsPayload::for_plan(&p).map(|pl| (p, pl)))
    else {
        let screen = gifts_screen(ctx, user).await?;
        return account::show(ctx, user, chat, None, screen).await;
    };
    let service = &ctx.app.settings().service_name;
    crate::payments::StarsInvoice {
        title: it::gift_invoice_title(language, service, plan.days.0),
        description: it::gift_invoice_description(language, plan.days.0),
        payload: payload.encode_gift(),
        stars: payload.stars,
    }
    .send(ctx, user, chat)
    .await
}

/// The buyer's message with a paid gift's code and link.
pub async fn gift_paid_text(ctx: &Ctx, language: Language, code: &GiftCode) -> String {
    let link = bot_username(ctx)
        .await
        .map(|bot| bot_start_link(&bot, &StartParameter::Gift(code.clone())));
    it::gift_paid(language, code.as_str(), link.as_deref())
}

/// Redeems `code` for `user` and shows what happened.
pub async fn redeem(ctx: &Ctx, user: &User, chat: i64, code: &GiftCode) -> Result<(), BotError> {
    let (notice, granted) = redeem_notice(ctx, user, code).await?;
    let screen = if granted {
        account::my_subscription(ctx, user, Some(&notice)).await?
    } else {
        account::menu(ctx, user, Some(&notice)).await?
    };
    account::show(ctx, user, chat, None, screen).await
}

/// The notice for redeeming `code`, and whether it granted days.
async fn redeem_notice(
    ctx: &Ctx,
    user: &User,
    code: &GiftCode,
) -> Result<(String, bool), BotError> {
    Ok(match ctx.app.redeem_gift(user, code, ctx.now()).await? {
        Redeemed::Granted { subscription, days } => {
            tracing::info!("a gift was redeemed");
            let notice = it::gift_redeemed(user.language, days, subscription.ends_at);
            (notice, true)
        }
        Redeemed::NotRedeemable | Redeemed::Blocked => {
            (it::gift_not_redeemable(user.language).to_owned(), false)
        }
    })
}

/// Right after a person signed up through a link: link them to the referrer, or redeem the
/// gift. Returns the notice for their first menu.
pub async fn after_sign_up(
    ctx: &Ctx,
    user: &User,
    parameter: &StartParameter,
) -> Result<Option<String>, BotError> {
    match parameter {
        StartParameter::Referral(code) => {
            let joined = ctx
                .app
                .join_through_referral(
                    user,
                    code,
                    &ctx.trial_key.referral_key(user.telegram_id),
                    &ctx.trial_key.claim_key(user.telegram_id),
                    ctx.now(),
                )
                .await?;
            tracing::info!(outcome = ?joined, "a sign-up through a referral link");
            Ok(match joined {
                Some(ReferralJoin::Joined) => Some(it::joined_through_link(
                    user.language,
                    ctx.app.settings().referrals.welcome_days,
                )),
                _ => None,
            })
        }
        StartParameter::Gift(code) => Ok(Some(redeem_notice(ctx, user, code).await?.0)),
    }
}

/// A `/start` with a parameter from a person who already has an account.
pub async fn start_for_member(
    ctx: &Ctx,
    user: &User,
    chat: i64,
    parameter: &StartParameter,
) -> Result<(), BotError> {
    match parameter {
        StartParameter::Gift(code) => redeem(ctx, user, chat, code).await,
        StartParameter::Referral(_) => {
            let screen =
                account::menu(ctx, user, Some(it::already_a_member(user.language))).await?;
            account::show(ctx, user, chat, None, screen).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_parameters_and_gift_commands_are_read() {
        let code = GiftCode::generate();
        let start = format!("/start {}", code.start_parameter());
        assert_eq!(
            start_parameter(Some(&start)),
            Some(StartParameter::Gift(code.clone()))
        );
        assert_eq!(start_parameter(Some("/start")), None);
        assert_eq!(start_parameter(Some("/start hello")), None);
        let typed = format!("/gift {}", code.as_str());
        assert_eq!(gift_command(Some(&typed)), Some(Ok(code.clone())));
        let addressed = format!("/gift@milly_bot {}", code.as_str());
        assert_eq!(gift_command(Some(&addressed)), Some(Ok(code)));
        assert_eq!(gift_command(Some("/gift nonsense")), Some(Err(())));
        assert_eq!(gift_command(Some("/gifts")), None);
        assert_eq!(gift_command(Some("hello")), None);
    }
}
