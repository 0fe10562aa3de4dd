//! The bot's screens: text plus inline keyboard, in the person's language. Only buttons that
//! lead somewhere are shown (no Buy without plans for sale, no trial when it is off).

use app::App;
use domain::{Language, Subscription, SubscriptionToken, User};
use teloxide_core::types::{InlineKeyboardButton, InlineKeyboardMarkup};
use time::OffsetDateTime;

use crate::callback::Action;
use crate::ctx::Screen;
use crate::guides::{self, Platform};
use crate::texts::{self, texts};

fn button(text: &str, action: Action) -> InlineKeyboardButton {
    InlineKeyboardButton::callback(text, action.encode())
}

fn back(language: Language) -> Vec<InlineKeyboardButton> {
    vec![button(texts(language).btn_back, Action::Menu)]
}

/// Whether anything is for sale (Stars or card), so a Buy button leads somewhere.
pub fn sells_anything(app: &App) -> bool {
    !app.stars_plans().is_empty() || !app.card_plans().is_empty()
}

/// Support reaches someone only if there is a support chat or an admin.
pub fn support_available(app: &App) -> bool {
    let settings = app.settings();
    settings.support_chat_id != 0 || !settings.admins.is_empty()
}

/// The screen shown before anything is stored: what is kept, the policy, agree or decline.
/// Reached through a referral or gift link, "I agree" (and the language switch) carries the
/// link's parameter, so it acts once the account exists (nothing is stored before).
pub fn consent_with(
    app: &App,
    language: Language,
    parameter: Option<&domain::StartParameter>,
) -> Screen {
    let t = texts(language);
    let (agree, switch) = match parameter {
        Some(p) => (
            Action::AgreeWith(language, p.clone()),
            Action::ConsentLanguageWith(language.other(), p.clone()),
        ),
        None => (
            Action::Agree(language),
            Action::ConsentLanguage(language.other()),
        ),
    };
    let settings = app.settings();
    Screen {
        text: texts::consent(language, &settings.service_name, &settings.public_url),
        keyboard: InlineKeyboardMarkup::new([
            vec![button(t.agree, agree)],
            vec![
                button(t.decline, Action::Decline(language)),
                button(t.other_language, switch),
            ],
        ]),
    }
}

pub fn menu(
    app: &App,
    user: &User,
    subscription: Option<&Subscription>,
    now: OffsetDateTime,
    notice: Option<&str>,
) -> Screen {
    let language = user.language;
    let t = texts(language);
    let mut rows = Vec::new();
    if sells_anything(app) {
        let label = if subscription.is_some() {
            t.btn_renew
        } else {
            t.btn_buy
        };
        rows.push(vec![button(label, Action::Buy)]);
    }
    rows.push(vec![button(t.btn_my_sub, Action::MySubscription)]);
    if app.trial_days().is_some() {
        rows.push(vec![button(t.btn_trial, Action::Trial)]);
    }
    rows.extend(crate::invites::menu_rows(app, language));
    if support_available(app) {
        rows.push(vec![button(t.btn_support, Action::Support)]);
    }
    rows.push(vec![button(t.btn_privacy, Action::Privacy)]);
    rows.push(vec![button(t.btn_language, Action::LanguageMenu)]);
    let status = texts::status(language, subscription.map(|s| s.ends_at), now);
    let mut text = String::new();
    if let Some(notice) = notice {
        text.push_str(notice);
        text.push_str("\n\n");
    }
    text.push_str(&format!("<b>{}</b>\n\n{status}", t.menu_title));
    Screen {
        text,
        keyboard: InlineKeyboardMarkup::new(rows),
    }
}

/// The plans: a Stars invoice button and, where YooKassa sells the plan, a card checkout link
/// (which carries the person's subscription token, so it is shown only in their own chat).
pub fn buy(app: &App, language: Language, token: Option<&SubscriptionToken>) -> Screen {
    let t = texts(language);
    let mut rows: Vec<Vec<InlineKeyboardButton>> = Vec::new();
    let card_plans = app.card_plans();
    for plan in app.settings().plans.iter().cloned() {
        let mut row = Vec::new();
        if app.stars_plans().iter().any(|p| p.id == plan.id) {
            row.push(button(
                &texts::plan_button(language, &plan),
                Action::BuyPlan(plan.id.clone()),
            ));
        }
        if let (Some(token), true) = (token, card_plans.iter().any(|p| p.id == plan.id)) {
            let link = app.card_checkout_url(token, &plan);
            if let Ok(url) = link.parse() {
                row.push(InlineKeyboardButton::url(
                    texts::card_button(language, &plan),
                    url,
                ));
            }
        }
        if !row.is_empty() {
            rows.push(row);
        }
        if app
            .stars_subscription_plans()
            .iter()
            .any(|p| p.id == plan.id)
        {
            rows.push(vec![button(
                &texts::stars_subscription_button(language, &plan),
                Action::StarsSubscribe(plan.id.clone()),
            )]);
        }
    }
    let text = if rows.is_empty() {
        t.buy_unavailable
    } else {
        rows.push(vec![button(
            crate::promo_texts::button(language),
            Action::Promo,
        )]);
        t.buy_title
    };
    rows.push(back(language));
    Screen {
        text: text.to_owned(),
        keyboard: InlineKeyboardMarkup::new(rows),
    }
}

/// My subscription without one: say so, and offer what can get one.
pub fn no_subscription(app: &App, language: Language) -> Screen {
    let t = texts(language);
    let mut rows = Vec::new();
    if sells_anything(app) {
        rows.push(vec![button(t.btn_buy, Action::Buy)]);
    }
    if app.trial_days().is_some() {
        rows.push(vec![button(t.btn_trial, Action::Trial)]);
    }
    rows.push(back(language));
    Screen {
        text: t.no_subscription.to_owned(),
        keyboard: InlineKeyboardMarkup::new(rows),
    }
}

pub fn my_subscription(
    app: &App,
    language: Language,
    subscription: &Subscription,
    url: &str,
    now: OffsetDateTime,
    notice: Option<&str>,
) -> Screen {
    let t = texts(language);
    let platforms: Vec<InlineKeyboardButton> = Platform::ALL
        .iter()
        .map(|p| button(p.name(), Action::Guide(*p)))
        .collect();
    let mut rows = vec![platforms[..3].to_vec(), platforms[3..].to_vec()];
    rows.push(vec![
        button(t.btn_qr, Action::Qr),
        button(t.btn_rotate, Action::Rotate),
    ]);
    if sells_anything(app) {
        rows.push(vec![button(t.btn_renew, Action::Buy)]);
    }
    rows.push(back(language));
    let mut text = String::new();
    if let Some(notice) = notice {
        text.push_str(notice);
        text.push_str("\n\n");
    }
    text.push_str(&texts::my_subscription(
        language,
        subscription.ends_at,
        now,
        url,
    ));
    Screen {
        text,
        keyboard: InlineKeyboardMarkup::new(rows),
    }
}

pub fn guide(language: Language, platform: Platform, url: &str) -> Screen {
    Screen {
        text: guides::guide(language, platform, url),
        keyboard: InlineKeyboardMarkup::new([
            vec![button(texts(language).btn_my_sub, Action::MySubscription)],
            back(language),
        ]),
    }
}

pub fn confirm(language: Language, text: &str, yes: (&str, Action), no: Action) -> Screen {
    Screen {
        text: text.to_owned(),
        keyboard: InlineKeyboardMarkup::new([
            vec![button(yes.0, yes.1)],
            vec![button(texts(language).btn_cancel, no)],
        ]),
    }
}

/// A prompt for the next text message, with a way out.
pub fn prompt(language: Language, text: &str) -> Screen {
    Screen {
        text: text.to_owned(),
        keyboard: InlineKeyboardMarkup::new([vec![button(
            texts(language).btn_cancel,
            Action::Cancel,
        )]]),
    }
}

pub fn privacy(user: &User, notice: Option<&str>) -> Screen {
    let language = user.language;
    let t = texts(language);
    let email = user.email.as_ref().map(|e| e.as_str());
    let mut rows = vec![vec![button(t.btn_export, Action::Export)]];
    if email.is_some() {
        rows.push(vec![
            button(t.btn_change_email, Action::SetEmail),
            button(t.btn_remove_email, Action::RemoveEmail),
        ]);
    } else {
        rows.push(vec![button(t.btn_set_email, Action::SetEmail)]);
    }
    rows.push(vec![button(t.btn_account_link, Action::AccountLink)]);
    rows.push(vec![button(t.btn_delete, Action::Delete)]);
    rows.push(vec![button(t.btn_withdraw, Action::Withdraw)]);
    rows.push(back(language));
    let mut text = String::new();
    if let Some(notice) = notice {
        text.push_str(notice);
        text.push_str("\n\n");
    }
    text.push_str(&texts::privacy(language, email, user.consent_at));
    Screen {
        text,
        keyboard: InlineKeyboardMarkup::new(rows),
    }
}

pub fn language_menu(language: Language) -> Screen {
    Screen {
        text: texts(language).language_prompt.to_owned(),
        keyboard: InlineKeyboardMarkup::new([
            vec![
                button("Русский", Action::SetLanguage(Language::Ru)),
                button("English", Action::SetLanguage(Language::En)),
            ],
            back(language),
        ]),
    }
}

/// A message with a single button back to the menu (or to renewing).
/// My subscription with auto-renewal on: a line saying so and the button that switches it off,
/// above the way back.
pub fn with_auto_renewal(mut screen: Screen, language: Language, plan: &str) -> Screen {
    screen.text.push_str("\n\n");
    screen.text.push_str(&texts::auto_renew_on(language, plan));
    let row = vec![button(
        texts::btn_auto_renew_off(language),
        Action::AutoRenewOff,
    )];
    let rows = &mut screen.keyboard.inline_keyboard;
    let at = rows.len().saturating_sub(1);
    rows.insert(at, row);
    screen
}

/// My subscription with a Stars subscription renewing it: a line saying so and the button that
/// cancels it, above the way back.
pub fn with_stars_subscription(
    mut screen: Screen,
    language: Language,
    until: OffsetDateTime,
) -> Screen {
    screen.text.push_str("\n\n");
    screen
        .text
        .push_str(&texts::stars_subscription_on(language, until));
    let row = vec![button(
        texts::btn_stars_cancel(language),
        Action::StarsCancel,
    )];
    let rows = &mut screen.keyboard.inline_keyboard;
    let at = rows.len().saturating_sub(1);
    rows.insert(at, row);
    screen
}

pub fn with_button(text: &str, label: &str, action: Action) -> Screen {
    Screen {
        text: text.to_owned(),
        keyboard: InlineKeyboardMarkup::new([vec![button(label, action)]]),
    }
}
