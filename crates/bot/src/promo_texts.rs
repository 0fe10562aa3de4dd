//! What the bot says about promo codes, in Russian and English (beside `texts`, which holds
//! the rest).

use domain::{Days, Language, Percent, PromoCode, PromoRefusal};
use time::OffsetDateTime;

use crate::texts::{date, escape};

pub fn button(language: Language) -> &'static str {
    match language {
        Language::Ru => "🎟 Промокод",
        Language::En => "🎟 Promo code",
    }
}

pub fn prompt(language: Language) -> &'static str {
    match language {
        Language::Ru => "🎟 Отправьте промокод одним сообщением.",
        Language::En => "🎟 Send your promo code in one message.",
    }
}

pub fn days_added(language: Language, days: Days, ends_at: OffsetDateTime) -> String {
    let until = date(language, ends_at);
    match language {
        Language::Ru => format!(
            "🎁 Промокод принят: +{} дн. Подписка действует до {until}.",
            days.0
        ),
        Language::En => format!(
            "🎁 Promo code accepted: +{} days. Your subscription runs until {until}.",
            days.0
        ),
    }
}

pub fn discount(language: Language, code: &PromoCode, percent: Percent) -> String {
    let code = escape(code.as_str());
    let p = percent.get();
    match language {
        Language::Ru => {
            format!("🎟 Промокод <b>{code}</b>: скидка {p}% на следующую оплату. Выберите тариф.")
        }
        Language::En => {
            format!("🎟 Promo code <b>{code}</b>: {p}% off your next payment. Choose a plan.")
        }
    }
}

pub fn refused(language: Language, refusal: PromoRefusal) -> &'static str {
    use PromoRefusal::*;
    match (language, refusal) {
        (Language::Ru, Unknown) => "Такого промокода нет. Проверьте написание.",
        (Language::En, Unknown) => "There is no such promo code. Check the spelling.",
        (Language::Ru, Disabled) => "Этот промокод отключён.",
        (Language::En, Disabled) => "This promo code is disabled.",
        (Language::Ru, Expired) => "Срок действия промокода истёк.",
        (Language::En, Expired) => "This promo code has expired.",
        (Language::Ru, UsedUp) => "Промокод уже использован максимальное число раз.",
        (Language::En, UsedUp) => "This promo code has been used up.",
        (Language::Ru, AlreadyUsed) => "Вы уже использовали этот промокод.",
        (Language::En, AlreadyUsed) => "You have used this promo code already.",
        (Language::Ru, WrongPlan) => "Этот промокод действует для другого тарифа.",
        (Language::En, WrongPlan) => "This promo code is for another plan.",
        (Language::Ru, NotApplicable) => "Этот промокод сейчас нельзя применить.",
        (Language::En, NotApplicable) => "This promo code cannot be used right now.",
    }
}

/// What pre-checkout says when an invoice's code no longer gives its price.
pub fn checkout_refused(language: Language) -> &'static str {
    match language {
        Language::Ru => "Промокод больше не даёт эту цену. Введите его заново: /promo КОД.",
        Language::En => "The promo code no longer gives this price. Enter it again: /promo CODE.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_is_said_in_both_languages() {
        use PromoRefusal::*;
        for r in [
            Unknown,
            Disabled,
            Expired,
            UsedUp,
            AlreadyUsed,
            WrongPlan,
            NotApplicable,
        ] {
            assert_ne!(refused(Language::Ru, r), refused(Language::En, r));
        }
    }
}
