//! What the bot says about referrals and gifts, in Russian and English (HTML mode; links and
//! codes are ours, URL-safe, and escaped anyway).

use domain::Language;
use time::OffsetDateTime;

use crate::texts::{date, escape};

pub fn btn_invite(language: Language) -> &'static str {
    match language {
        Language::Ru => "🤝 Пригласить друзей",
        Language::En => "🤝 Invite friends",
    }
}

pub fn btn_gift(language: Language) -> &'static str {
    match language {
        Language::Ru => "🎁 Подарить подписку",
        Language::En => "🎁 Give a subscription",
    }
}

/// The referral screen: the link, what it earns, and counts (never who).
pub fn referral_screen(
    language: Language,
    link: Option<&str>,
    reward_days: u32,
    joined: u64,
    paid: u64,
) -> String {
    let link = match link {
        Some(link) => format!("<code>{}</code>", escape(link)),
        None => match language {
            Language::Ru => "(ссылка сейчас недоступна, попробуйте позже)".to_owned(),
            Language::En => "(the link is unavailable right now, try again later)".to_owned(),
        },
    };
    match (language, reward_days) {
        (Language::Ru, 0) => format!(
            "🤝 Ваша ссылка-приглашение:\n{link}\n\n\
             По ней пришли: {joined}, из них оплатили: {paid}. Кто именно — мы не показываем."
        ),
        (Language::En, 0) => format!(
            "🤝 Your invitation link:\n{link}\n\n\
             Joined through it: {joined}, of whom paid: {paid}. We never show who."
        ),
        (Language::Ru, days) => format!(
            "🤝 Ваша ссылка-приглашение:\n{link}\n\n\
             Когда приглашённый впервые оплатит подписку, вы получите +{days} дн. (один раз за \
             каждого нового человека; пробный период не считается).\n\n\
             По ней пришли: {joined}, из них оплатили: {paid}. Кто именно — мы не показываем."
        ),
        (Language::En, days) => format!(
            "🤝 Your invitation link:\n{link}\n\n\
             When someone you invited pays for the first time, you get +{days} days (once per \
             new person; free trials do not count).\n\n\
             Joined through it: {joined}, of whom paid: {paid}. We never show who."
        ),
    }
}

/// Shown to a newcomer who joined through a link.
pub fn joined_through_link(language: Language, welcome_days: u32) -> String {
    match (language, welcome_days) {
        (Language::Ru, 0) => "🤝 Вы пришли по приглашению — добро пожаловать!".to_owned(),
        (Language::En, 0) => "🤝 You joined through an invitation. Welcome!".to_owned(),
        (Language::Ru, days) => {
            format!("🤝 Вы пришли по приглашению: с первой оплатой получите +{days} дн. в подарок.")
        }
        (Language::En, days) => format!(
            "🤝 You joined through an invitation: your first payment brings +{days} extra days."
        ),
    }
}

/// The gifts screen: what can be bought as a gift, and how a gift is redeemed.
pub fn gift_screen(language: Language, anything_for_sale: bool) -> &'static str {
    match (language, anything_for_sale) {
        (Language::Ru, true) => {
            "🎁 Купите подписку в подарок: после оплаты вы получите код и ссылку, которые можно \
             передать кому угодно. Подписку получит тот, кто первым активирует код.\n\n\
             Получили код? Отправьте <code>/gift КОД</code> или откройте ссылку."
        }
        (Language::En, true) => {
            "🎁 Buy a subscription as a gift: once paid, you get a code and a link to hand to \
             anyone. Whoever redeems the code first gets the subscription.\n\n\
             Got a code? Send <code>/gift CODE</code> or open the link."
        }
        (Language::Ru, false) => {
            "🎁 Сейчас подарки купить нельзя.\n\n\
             Получили код? Отправьте <code>/gift КОД</code> или откройте ссылку."
        }
        (Language::En, false) => {
            "🎁 Gifts cannot be bought right now.\n\n\
             Got a code? Send <code>/gift CODE</code> or open the link."
        }
    }
}

/// The buyer's gifts not redeemed yet: `(code, days)`.
pub fn unredeemed(language: Language, gifts: &[(String, u32)]) -> String {
    let mut text = match language {
        Language::Ru => "\n\nВаши ещё не активированные подарки:".to_owned(),
        Language::En => "\n\nYour gifts not redeemed yet:".to_owned(),
    };
    for (code, days) in gifts {
        let code = escape(code);
        text.push_str(&match language {
            Language::Ru => format!("\n• <code>{code}</code> — {days} дн."),
            Language::En => format!("\n• <code>{code}</code> — {days} days"),
        });
    }
    text
}

pub fn gift_invoice_title(language: Language, service: &str, days: u32) -> String {
    match language {
        Language::Ru => format!("Подарок — {service}: {days} дн."),
        Language::En => format!("Gift — {service}: {days} days"),
    }
}

pub fn gift_invoice_description(language: Language, days: u32) -> String {
    match language {
        Language::Ru => {
            format!("Подписка на {days} дн. в подарок: после оплаты вы получите код для передачи.")
        }
        Language::En => {
            format!("A {days}-day subscription as a gift: once paid, you get a code to hand over.")
        }
    }
}

/// The buyer's message once a gift is paid: the code and the link, for them only.
pub fn gift_paid(language: Language, code: &str, link: Option<&str>) -> String {
    let code = escape(code);
    let link = link.map(|l| format!("\n{}", escape(l))).unwrap_or_default();
    match language {
        Language::Ru => format!(
            "🎁 Подарок оплачен, спасибо! Передайте код тому, кому дарите:\n\
             <code>{code}</code>{link}\n\n\
             Получатель отправляет боту <code>/gift {code}</code> или открывает ссылку. Код \
             действует один раз и в течение года."
        ),
        Language::En => format!(
            "🎁 Gift paid, thank you! Hand this code to the person it is for:\n\
             <code>{code}</code>{link}\n\n\
             They send the bot <code>/gift {code}</code> or open the link. The code works once, \
             within a year."
        ),
    }
}

pub fn gift_redeemed(language: Language, days: u32, ends_at: OffsetDateTime) -> String {
    let day = date(language, ends_at);
    match language {
        Language::Ru => format!("🎁 Подарок активирован: +{days} дн. Подписка активна до {day}."),
        Language::En => {
            format!("🎁 Gift redeemed: +{days} days. Subscription active until {day}.")
        }
    }
}

pub fn gift_not_redeemable(language: Language) -> &'static str {
    match language {
        Language::Ru => "Этот код подарка не действует: он неверный, уже использован или истёк.",
        Language::En => "This gift code does not work: it is wrong, already used or expired.",
    }
}

/// A person with an account opened someone's invitation link.
pub fn already_a_member(language: Language) -> &'static str {
    match language {
        Language::Ru => "У вас уже есть аккаунт, поэтому приглашение не засчитывается.",
        Language::En => "You already have an account, so the invitation does not count.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_exists_in_both_languages_and_differs() {
        for (ru, en) in [
            (btn_invite(Language::Ru), btn_invite(Language::En)),
            (btn_gift(Language::Ru), btn_gift(Language::En)),
            (
                gift_screen(Language::Ru, true),
                gift_screen(Language::En, true),
            ),
            (
                gift_not_redeemable(Language::Ru),
                gift_not_redeemable(Language::En),
            ),
            (
                already_a_member(Language::Ru),
                already_a_member(Language::En),
            ),
        ] {
            assert!(!ru.is_empty() && !en.is_empty());
            assert_ne!(ru, en);
        }
        let ru = gift_paid(Language::Ru, "abc", Some("https://t.me/b?start=gift_abc"));
        let en = gift_paid(Language::En, "abc", Some("https://t.me/b?start=gift_abc"));
        assert!(ru.contains("abc") && en.contains("abc") && ru != en);
        let ru = referral_screen(Language::Ru, Some("https://t.me/b?start=ref_x"), 7, 3, 1);
        assert!(ru.contains("+7") && ru.contains("ref_x") && ru.contains('3'));
    }
}
