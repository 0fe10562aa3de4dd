//! Everything the bot says, in Russian and English. Messages use Telegram's HTML mode; anything
//! not written here (links, emails, support text) goes through [`escape`].

use app::TicketId;
use domain::{Language, Plan, PublicUrl, UserId};
use time::OffsetDateTime;

/// The fixed texts of one language.
pub struct Texts {
    pub agree: &'static str,
    pub decline: &'static str,
    pub other_language: &'static str,
    pub declined: &'static str,
    pub menu_title: &'static str,
    pub btn_buy: &'static str,
    pub btn_renew: &'static str,
    pub btn_my_sub: &'static str,
    pub btn_trial: &'static str,
    pub btn_support: &'static str,
    pub btn_privacy: &'static str,
    pub btn_language: &'static str,
    pub btn_back: &'static str,
    pub btn_cancel: &'static str,
    pub btn_qr: &'static str,
    pub btn_rotate: &'static str,
    pub btn_rotate_confirm: &'static str,
    pub btn_export: &'static str,
    pub btn_set_email: &'static str,
    pub btn_change_email: &'static str,
    pub btn_remove_email: &'static str,
    pub btn_delete: &'static str,
    pub btn_withdraw: &'static str,
    pub btn_account_link: &'static str,
    pub btn_delete_confirm: &'static str,
    pub no_subscription: &'static str,
    pub rotate_warning: &'static str,
    pub rotated: &'static str,
    pub trial_used: &'static str,
    pub buy_title: &'static str,
    pub buy_unavailable: &'static str,
    pub checkout_not_offered: &'static str,
    pub checkout_not_allowed: &'static str,
    pub paid_again: &'static str,
    pub payment_refunded: &'static str,
    pub support_prompt: &'static str,
    pub support_empty: &'static str,
    pub email_prompt: &'static str,
    pub email_invalid: &'static str,
    pub email_saved: &'static str,
    pub email_removed: &'static str,
    pub delete_warning: &'static str,
    pub withdraw_warning: &'static str,
    pub deleted: &'static str,
    pub export_caption: &'static str,
    pub language_prompt: &'static str,
    pub qr_caption: &'static str,
    pub something_went_wrong: &'static str,
    pub reminder_ended: &'static str,
}

pub const RU: Texts = Texts {
    agree: "✅ Согласен",
    decline: "Отказаться",
    other_language: "🌐 English",
    declined: "Хорошо. Мы ничего о вас не сохранили. Если передумаете, отправьте /start.",
    menu_title: "Главное меню",
    btn_buy: "💳 Купить",
    btn_renew: "💳 Продлить",
    btn_my_sub: "🔑 Моя подписка",
    btn_trial: "🎁 Пробный период",
    btn_support: "💬 Поддержка",
    btn_privacy: "🔒 Приватность и мои данные",
    btn_language: "🌐 Язык / Language",
    btn_back: "« Меню",
    btn_cancel: "Отмена",
    btn_qr: "📷 QR-код",
    btn_rotate: "🔄 Новая ссылка",
    btn_rotate_confirm: "Да, заменить ссылку",
    btn_export: "📄 Мои данные (JSON)",
    btn_set_email: "✉️ Указать email",
    btn_change_email: "✉️ Изменить email",
    btn_remove_email: "Удалить email",
    btn_delete: "🗑 Удалить аккаунт",
    btn_withdraw: "Отозвать согласие",
    btn_account_link: "🌐 Управлять данными на сайте",
    btn_delete_confirm: "Да, удалить всё",
    no_subscription: "У вас пока нет подписки.",
    rotate_warning: "Старая ссылка подписки перестанет работать, и в приложениях её нужно \
        будет заменить новой. Заменить?",
    rotated: "Готово: выдана новая ссылка, старая больше не работает.",
    trial_used: "Пробный период уже был использован для этого аккаунта Telegram.",
    buy_title: "💳 Выберите тариф и способ оплаты.",
    buy_unavailable: "Сейчас оплата недоступна. Попробуйте позже или напишите в поддержку.",
    checkout_not_offered: "Этот тариф больше не продаётся по этой цене. Откройте меню заново.",
    checkout_not_allowed: "Оплата недоступна для этого аккаунта.",
    paid_again: "Этот платёж уже зачислен.",
    payment_refunded: "Не удалось зачислить платёж; звёзды возвращены.",
    support_prompt: "💬 Напишите вопрос одним сообщением — мы передадим его оператору. \
        Ответ придёт сюда.",
    support_empty: "Пожалуйста, отправьте вопрос текстом.",
    email_prompt: "Отправьте ваш email одним сообщением.",
    email_invalid: "Это не похоже на email. Попробуйте ещё раз или нажмите «Отмена».",
    email_saved: "Email сохранён.",
    email_removed: "Email удалён.",
    delete_warning: "Удалить аккаунт? Доступ к VPN прекратится сразу, все ваши данные будут \
        удалены безвозвратно. Записи об оплатах, которые требует хранить закон, останутся без \
        связи с вами.",
    withdraw_warning: "Отозвать согласие на обработку данных? Без него мы не можем оказывать \
        услугу: аккаунт будет удалён, доступ к VPN прекратится сразу, все ваши данные будут \
        удалены безвозвратно.",
    deleted: "Аккаунт удалён. Мы больше ничего о вас не храним. Чтобы начать заново, \
        отправьте /start.",
    export_caption: "Все данные, которые мы о вас храним.",
    language_prompt: "Выберите язык / Choose your language",
    qr_caption: "Отсканируйте в приложении, чтобы добавить подписку.",
    something_went_wrong: "Что-то пошло не так. Попробуйте ещё раз чуть позже.",
    reminder_ended: "⏰ Ваша подписка закончилась. Продлите её, чтобы снова пользоваться VPN.",
};

pub const EN: Texts = Texts {
    agree: "✅ I agree",
    decline: "Decline",
    other_language: "🌐 Русский",
    declined: "All right. We stored nothing about you. If you change your mind, send /start.",
    menu_title: "Main menu",
    btn_buy: "💳 Buy",
    btn_renew: "💳 Renew",
    btn_my_sub: "🔑 My subscription",
    btn_trial: "🎁 Free trial",
    btn_support: "💬 Support",
    btn_privacy: "🔒 Privacy & my data",
    btn_language: "🌐 Language / Язык",
    btn_back: "« Menu",
    btn_cancel: "Cancel",
    btn_qr: "📷 QR code",
    btn_rotate: "🔄 New link",
    btn_rotate_confirm: "Yes, replace the link",
    btn_export: "📄 My data (JSON)",
    btn_set_email: "✉️ Set email",
    btn_change_email: "✉️ Change email",
    btn_remove_email: "Remove email",
    btn_delete: "🗑 Delete my account",
    btn_withdraw: "Withdraw consent",
    btn_account_link: "🌐 Manage my data on the website",
    btn_delete_confirm: "Yes, delete everything",
    no_subscription: "You have no subscription yet.",
    rotate_warning: "Your current subscription link will stop working and you will have to \
        replace it in your apps. Replace it?",
    rotated: "Done: here is your new link; the old one no longer works.",
    trial_used: "The free trial was already used for this Telegram account.",
    buy_title: "💳 Choose a plan and how to pay.",
    buy_unavailable: "Payments are unavailable right now. Try later or contact support.",
    checkout_not_offered: "This plan is no longer sold at this price. Please open the menu again.",
    checkout_not_allowed: "Payments are not available for this account.",
    paid_again: "This payment has already been credited.",
    payment_refunded: "We could not credit this payment; your stars were refunded.",
    support_prompt: "💬 Write your question in one message and we will pass it to the \
        operator. The answer will arrive here.",
    support_empty: "Please send your question as text.",
    email_prompt: "Send your email address in one message.",
    email_invalid: "That does not look like an email address. Try again or press Cancel.",
    email_saved: "Email saved.",
    email_removed: "Email removed.",
    delete_warning: "Delete your account? VPN access ends at once and all your data is erased \
        for good. Payment records the law requires us to keep stay, with nothing linking them \
        to you.",
    withdraw_warning: "Withdraw your consent to data processing? We cannot provide the service \
        without it: your account will be deleted, VPN access ends at once and all your data is \
        erased for good.",
    deleted: "Your account is deleted. We no longer keep anything about you. To start again, \
        send /start.",
    export_caption: "Everything we store about you.",
    language_prompt: "Choose your language / Выберите язык",
    qr_caption: "Scan it in your app to add the subscription.",
    something_went_wrong: "Something went wrong. Please try again a bit later.",
    reminder_ended: "⏰ Your subscription has ended. Renew it to use the VPN again.",
};

pub fn texts(language: Language) -> &'static Texts {
    match language {
        Language::Ru => &RU,
        Language::En => &EN,
    }
}

/// The longest piece of someone else's text quoted in a message, leaving room for the frame
/// within Telegram's 4096 characters.
const MAX_QUOTED_CHARS: usize = 3500;

/// `text` cut to [`MAX_QUOTED_CHARS`] characters, with an ellipsis if it was longer.
pub fn clip(text: &str) -> String {
    match text.char_indices().nth(MAX_QUOTED_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// Escapes text for Telegram's HTML mode.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A date as people write it: `31.12.2026` in Russian, `2026-12-31` in English.
pub fn date(language: Language, at: OffsetDateTime) -> String {
    match language {
        Language::Ru => format!("{:02}.{:02}.{}", at.day(), u8::from(at.month()), at.year()),
        Language::En => format!("{}-{:02}-{:02}", at.year(), u8::from(at.month()), at.day()),
    }
}

/// The consent screen: what is kept, the policy link, and that nothing is stored before "I agree".
pub fn consent(language: Language, service: &str, public_url: &PublicUrl) -> String {
    let service = escape(service);
    let policy = escape(&public_url.join_path("/privacy"));
    match language {
        Language::Ru => format!(
            "👋 Привет! Это <b>{service}</b> — быстрый и приватный VPN.\n\n\
             Чтобы оказывать услугу, мы храним: ваш Telegram ID, имя и username, email (если \
             вы его укажете), данные об оплатах (сумма, дата, статус) и сроки подписки. Мы не \
             храним логи подключений и не видим ваш трафик.\n\n\
             Подробнее — в <a href=\"{policy}\">политике конфиденциальности</a>. Пока вы не \
             нажали «Согласен», мы ничего о вас не сохраняем."
        ),
        Language::En => format!(
            "👋 Hi! This is <b>{service}</b>, a fast and private VPN.\n\n\
             To provide the service we keep: your Telegram ID, name and username, your email \
             (if you give it), payment records (amount, date, status) and your subscription \
             period. We keep no connection logs and never see your traffic.\n\n\
             Details are in our <a href=\"{policy}\">privacy policy</a>. Until you press \
             \"I agree\", we store nothing about you."
        ),
    }
}

/// The status line under the main menu title.
pub fn status(language: Language, ends_at: Option<OffsetDateTime>, now: OffsetDateTime) -> String {
    let day = date(language, ends_at.unwrap_or(now));
    match (language, ends_at) {
        (Language::Ru, None) => "Подписки пока нет.".into(),
        (Language::En, None) => "No subscription yet.".into(),
        (Language::Ru, Some(end)) if end > now => format!("✅ Подписка активна до {day}."),
        (Language::En, Some(end)) if end > now => format!("✅ Subscription active until {day}."),
        (Language::Ru, Some(_)) => format!("⛔ Подписка закончилась {day}."),
        (Language::En, Some(_)) => format!("⛔ Subscription ended on {day}."),
    }
}

/// A plan's button: `30 дней — 100 ⭐`.
pub fn plan_button(language: Language, plan: &Plan) -> String {
    let stars = plan.price_stars.map(|m| m.minor).unwrap_or_default();
    match language {
        Language::Ru => format!("{} дн. — {stars} ⭐", plan.days.0),
        Language::En => format!("{} days — {stars} ⭐", plan.days.0),
    }
}

/// A plan's card checkout button: `30 дн. — 199 ₽ картой`.
pub fn card_button(language: Language, plan: &Plan) -> String {
    let kopecks = plan.price_rub.map(|m| m.minor).unwrap_or_default();
    let price = if kopecks % 100 == 0 {
        format!("{}", kopecks / 100)
    } else {
        format!("{}.{:02}", kopecks / 100, kopecks % 100)
    };
    match language {
        Language::Ru => format!("{} дн. — {price} ₽ картой", plan.days.0),
        Language::En => format!("{} days — {price} ₽ by card", plan.days.0),
    }
}

pub fn invoice_title(language: Language, service: &str, days: u32) -> String {
    match language {
        Language::Ru => format!("{service}: {days} дн."),
        Language::En => format!("{service}: {days} days"),
    }
}

pub fn invoice_description(language: Language, days: u32) -> String {
    match language {
        Language::Ru => format!("Доступ к VPN на {days} дн. Продлевает текущую подписку."),
        Language::En => format!("VPN access for {days} days. Extends your current subscription."),
    }
}

pub fn trial_granted(language: Language, days: u32, ends_at: OffsetDateTime) -> String {
    let day = date(language, ends_at);
    match language {
        Language::Ru => format!("🎁 Пробный период на {days} дн. активирован — до {day}."),
        Language::En => format!("🎁 Your {days}-day free trial is on, until {day}."),
    }
}

pub fn paid(language: Language, ends_at: OffsetDateTime) -> String {
    let day = date(language, ends_at);
    match language {
        Language::Ru => format!("✅ Оплата получена, спасибо! Подписка активна до {day}."),
        Language::En => format!("✅ Payment received, thank you! Subscription active until {day}."),
    }
}

/// My subscription: status, the URL in a code entity (one tap copies it), what to do next.
pub fn my_subscription(
    language: Language,
    ends_at: OffsetDateTime,
    now: OffsetDateTime,
    url: &str,
) -> String {
    let status = status(language, Some(ends_at), now);
    let url = escape(url);
    match language {
        Language::Ru => format!(
            "🔑 <b>Моя подписка</b>\n\n{status}\n\nСсылка подписки (нажмите, чтобы \
             скопировать):\n<code>{url}</code>\n\nДобавьте её в приложение — выберите \
             устройство ниже. Не показывайте ссылку другим."
        ),
        Language::En => format!(
            "🔑 <b>My subscription</b>\n\n{status}\n\nSubscription link (tap to copy):\n\
             <code>{url}</code>\n\nAdd it to your app: choose your device below. Do not share \
             the link."
        ),
    }
}

pub fn support_sent(language: Language, ticket: TicketId) -> String {
    let ticket = ticket.0;
    match language {
        Language::Ru => format!("Обращение #{ticket} отправлено. Ответ придёт сюда."),
        Language::En => format!("Ticket #{ticket} sent. The answer will arrive here."),
    }
}

pub fn support_answer(language: Language, ticket: TicketId, text: &str) -> String {
    let ticket = ticket.0;
    let text = escape(&clip(text));
    match language {
        Language::Ru => format!("💬 <b>Ответ поддержки</b> (обращение #{ticket}):\n\n{text}"),
        Language::En => format!("💬 <b>Support answer</b> (ticket #{ticket}):\n\n{text}"),
    }
}

/// What the operator sees: the ticket number, the internal user id and the text; no names.
pub fn support_relay(ticket: TicketId, user: UserId, language: Language, text: &str) -> String {
    format!(
        "🆘 <b>#{}</b> · user {user} · {}\n\n{}\n\n<i>Reply to this message to answer.</i>",
        ticket.0,
        language.code(),
        escape(&clip(text))
    )
}

pub fn privacy(language: Language, email: Option<&str>, consent: Option<OffsetDateTime>) -> String {
    let email = email.map(escape);
    let consent = consent.map(|c| date(language, c));
    match language {
        Language::Ru => format!(
            "🔒 <b>Приватность и мои данные</b>\n\nМы храним: Telegram ID, имя и username, \
             email, оплаты (сумма, дата, статус), сроки подписки и ваши обращения в поддержку. \
             Логов подключений нет.\n\nEmail: {}\nСогласие дано: {}",
            email.unwrap_or_else(|| "не указан".into()),
            consent.unwrap_or_else(|| "—".into())
        ),
        Language::En => format!(
            "🔒 <b>Privacy &amp; my data</b>\n\nWe keep: Telegram ID, name and username, \
             email, payments (amount, date, status), your subscription period and your support \
             messages. No connection logs.\n\nEmail: {}\nConsent given: {}",
            email.unwrap_or_else(|| "not set".into()),
            consent.unwrap_or_else(|| "—".into())
        ),
    }
}

pub fn reminder(language: Language, days_left: u32, ends_at: OffsetDateTime) -> String {
    let day = date(language, ends_at);
    match language {
        Language::Ru => {
            format!("⏰ Подписка закончится через {days_left} дн. ({day}). Продлите её заранее.")
        }
        Language::En => {
            format!("⏰ Your subscription ends in {days_left} day(s) ({day}). Renew it in time.")
        }
    }
}

/// The Buy screen's button for a monthly Stars subscription to `plan`.
pub fn stars_subscription_button(language: Language, plan: &Plan) -> String {
    let stars = plan.price_stars.map(|m| m.minor).unwrap_or_default();
    match language {
        Language::Ru => format!("🔁 Подписка {stars} ⭐ в месяц"),
        Language::En => format!("🔁 Subscribe: {stars} ⭐ a month"),
    }
}

/// The message carrying the subscription invoice link.
pub fn stars_subscription_offer(language: Language) -> &'static str {
    match language {
        Language::Ru => {
            "Подписка за звёзды: Telegram будет списывать оплату каждые 30 дней, пока \
             вы её не отмените (здесь, в «Моя подписка», или в настройках Telegram)."
        }
        Language::En => {
            "A Stars subscription: Telegram charges it every 30 days until you \
             cancel it (here, in My subscription, or in Telegram's settings)."
        }
    }
}

pub fn btn_stars_subscribe(language: Language) -> &'static str {
    match language {
        Language::Ru => "⭐ Оформить подписку",
        Language::En => "⭐ Subscribe",
    }
}

/// My subscription's line while a Stars subscription renews it.
pub fn stars_subscription_on(language: Language, until: OffsetDateTime) -> String {
    let day = date(language, until);
    match language {
        Language::Ru => format!("🔁 Подписка за звёзды оплачена до {day} и продлевается Telegram."),
        Language::En => format!("🔁 Stars subscription paid until {day}; Telegram renews it."),
    }
}

pub fn btn_stars_cancel(language: Language) -> &'static str {
    match language {
        Language::Ru => "⏹ Отменить подписку за звёзды",
        Language::En => "⏹ Cancel the Stars subscription",
    }
}

pub fn stars_subscription_canceled(language: Language) -> &'static str {
    match language {
        Language::Ru => {
            "Подписка за звёзды отменена: новых списаний не будет, оплаченные дни \
             остаются."
        }
        Language::En => {
            "The Stars subscription is canceled: no more charges; the days paid \
             for stay."
        }
    }
}

/// My subscription's line while card auto-renewal is on.
pub fn auto_renew_on(language: Language, plan: &str) -> String {
    let plan = escape(plan);
    match language {
        Language::Ru => format!(
            "🔁 Автопродление включено (тариф {plan}): за день до окончания спишем оплату с \
             сохранённой карты."
        ),
        Language::En => format!(
            "🔁 Auto-renewal is on (plan {plan}): a day before the end we charge the saved card."
        ),
    }
}

pub fn btn_auto_renew_off(language: Language) -> &'static str {
    match language {
        Language::Ru => "⏹ Отключить автопродление",
        Language::En => "⏹ Switch auto-renewal off",
    }
}

pub fn auto_renew_switched_off(language: Language) -> &'static str {
    match language {
        Language::Ru => "Автопродление отключено, сохранённый способ оплаты удалён.",
        Language::En => "Auto-renewal is off, and the saved payment method is deleted.",
    }
}

/// The reminder before the end when auto-renewal is on: a charge is coming.
pub fn reminder_auto_renew(language: Language, days_left: u32, ends_at: OffsetDateTime) -> String {
    let day = date(language, ends_at);
    match language {
        Language::Ru => format!(
            "⏰ Подписка заканчивается через {days_left} дн. ({day}). Автопродление включено: \
             за день до окончания спишем оплату тарифа с сохранённой карты. Отключить можно \
             кнопкой ниже."
        ),
        Language::En => format!(
            "⏰ Your subscription ends in {days_left} day(s) ({day}). Auto-renewal is on: a day \
             before the end we charge the plan to the saved card. You can switch it off below."
        ),
    }
}

/// A renewal charge was declined and will be tried again.
pub fn renewal_declined(language: Language, retries_left: u32) -> String {
    match language {
        Language::Ru => format!(
            "⚠️ Не удалось списать оплату автопродления с сохранённой карты. Попробуем ещё \
             {retries_left} раз(а). Можно продлить и вручную."
        ),
        Language::En => format!(
            "⚠️ The auto-renewal charge to your saved card was declined. We will try \
             {retries_left} more time(s). You can also renew by hand."
        ),
    }
}

/// Auto-renewal stopped after declined charges (or a revoked permission).
pub fn renewal_stopped(language: Language) -> &'static str {
    match language {
        Language::Ru => {
            "⚠️ Автопродление остановлено: карта не приняла оплату. Сохранённый \
             способ оплаты удалён. Продлите подписку вручную, чтобы доступ не прервался."
        }
        Language::En => {
            "⚠️ Auto-renewal has stopped: the card did not accept the charge. The \
             saved payment method is deleted. Renew by hand to keep your access."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn html_special_characters_are_escaped() {
        assert_eq!(escape("<b>&\"x\""), "&lt;b&gt;&amp;&quot;x&quot;");
    }

    #[test]
    fn long_quotes_are_clipped_within_telegrams_limit() {
        let long = "я".repeat(5000);
        let relayed = support_relay(TicketId(1), UserId(2), Language::Ru, &long);
        assert!(relayed.chars().count() < 4096);
        assert!(relayed.contains('…'));
        assert_eq!(clip("short"), "short");
    }

    #[test]
    fn dates_follow_the_language() {
        let at = datetime!(2026-03-07 10:00 UTC);
        assert_eq!(date(Language::Ru, at), "07.03.2026");
        assert_eq!(date(Language::En, at), "2026-03-07");
    }

    #[test]
    fn the_consent_screen_links_the_policy_in_both_languages() {
        for language in Language::ALL {
            let text = consent(language, "milly", &"https://vpn.example/".parse().unwrap());
            assert!(text.contains("https://vpn.example/privacy"));
        }
    }
}
