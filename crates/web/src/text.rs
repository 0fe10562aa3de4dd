//! Every sentence of the site's interface in Russian and English; long legal texts live in
//! `documents/`.

pub mod account;
pub mod me;
pub mod pay;

/// "3 дня", "1 day": kept in `domain` because the data inventory counts days too.
pub use domain::counts::days;
use domain::{Language, Money};

/// One language's interface strings. A field missing in one language is a compile error.
pub struct Text {
    pub nav_home: &'static str,
    pub nav_privacy: &'static str,
    pub nav_terms: &'static str,
    pub nav_support: &'static str,
    /// The switcher's label, written in the language it switches to.
    pub switch_to: &'static str,
    pub home_tagline: &'static str,
    pub home_lead: &'static str,
    pub features: [(&'static str, &'static str); 4],
    pub plans_title: &'static str,
    pub plans_empty: &'static str,
    pub or: &'static str,
    pub stars: &'static str,
    pub trial_before: &'static str,
    pub trial_after: &'static str,
    pub start_title: &'static str,
    pub start_steps: [&'static str; 3],
    pub open_bot: &'static str,
    pub no_bot: &'static str,
    pub support_title: &'static str,
    pub support_lead: &'static str,
    pub support_email: &'static str,
    pub support_telegram: &'static str,
    pub support_bot: &'static str,
    pub support_rights: &'static str,
    pub support_none: &'static str,
    pub not_specified: &'static str,
    /// Who the operator is when `[service] operator` is empty; `{service}` is the service name.
    pub operator_fallback: &'static str,
    pub inventory_title: &'static str,
    pub inventory_columns: [&'static str; 4],
    pub not_found_title: &'static str,
    pub not_found_text: &'static str,
    pub error_title: &'static str,
    pub error_text: &'static str,
    pub back_home: &'static str,
    pub footer_operator: &'static str,
    pub sub_title: &'static str,
    pub sub_active_until: &'static str,
    pub sub_expired: &'static str,
    pub sub_blocked: &'static str,
    pub sub_none: &'static str,
    pub sub_qr: &'static str,
    pub sub_url: &'static str,
    pub sub_add: &'static str,
    pub sub_links: &'static str,
    pub sub_private: &'static str,
}

impl Text {
    pub fn get(lang: Language) -> &'static Text {
        match lang {
            Language::Ru => &RU,
            Language::En => &EN,
        }
    }
}

/// Roubles as people write them: `199`, `199,50` in Russian and `199.50` in English.
pub fn roubles(lang: Language, price: Money) -> String {
    let (whole, kopecks) = (price.minor / 100, price.minor % 100);
    let sep = match lang {
        Language::Ru => ',',
        Language::En => '.',
    };
    if kopecks == 0 {
        format!("{whole}")
    } else {
        format!("{whole}{sep}{kopecks:02}")
    }
}

static RU: Text = Text {
    nav_home: "Главная",
    nav_privacy: "Конфиденциальность",
    nav_terms: "Условия",
    nav_support: "Поддержка",
    switch_to: "English",
    home_tagline: "Быстрый и приватный VPN, которым вы управляете в Telegram",
    home_lead:
        "Подключение по протоколу VLESS с шифрованием TLS: оно похоже на обычный защищённый \
                сайт и работает там, где другие VPN блокируют. Оплата, продление и поддержка — \
                в нашем Telegram-боте, настройка приложения — по одной ссылке.",
    features: [
        (
            "Без журналов подключений",
            "Мы не храним историю посещений, адреса, к которым вы подключаетесь, и содержимое \
             трафика.",
        ),
        (
            "Любое устройство",
            "Android, iPhone, Windows, macOS и Linux: v2rayNG, Hiddify, Streisand, sing-box, \
             Clash и другие приложения.",
        ),
        (
            "Подписка обновляется сама",
            "Приложение само получает актуальные настройки по вашей ссылке подписки.",
        ),
        (
            "Минимум данных",
            "Для работы нужен только ваш Telegram. Почта — по желанию, данные карты мы не \
             получаем.",
        ),
    ],
    plans_title: "Тарифы",
    plans_empty: "Тарифы скоро появятся.",
    or: "или",
    stars: "Telegram Stars",
    trial_before: "Попробуйте бесплатно:",
    trial_after: "без оплаты.",
    start_title: "Как начать",
    start_steps: [
        "Откройте нашего бота в Telegram.",
        "Выберите тариф и оплатите звёздами Telegram или картой.",
        "Добавьте ссылку подписки в приложение — и подключайтесь.",
    ],
    open_bot: "Открыть бота в Telegram",
    no_bot: "Ссылка на бота появится здесь, когда оператор её укажет.",
    support_title: "Поддержка и контакты",
    support_lead: "Вопросы об оплате, подключении или ваших данных — напишите нам, мы поможем.",
    support_email: "Электронная почта",
    support_telegram: "Telegram",
    support_bot: "Бот",
    support_rights:
        "Запросы о персональных данных (доступ, исправление, удаление, отзыв согласия) \
                     принимаются по электронной почте — подробнее в политике конфиденциальности.",
    support_none: "Оператор пока не указал контакты.",
    not_specified: "(не указано)",
    operator_fallback: "владелец сервиса {service}",
    inventory_title: "Какие данные хранятся",
    inventory_columns: ["Данные", "Категория", "Цель", "Срок хранения"],
    not_found_title: "Страница не найдена",
    not_found_text: "Такой страницы нет. Возможно, ссылка устарела или в адресе опечатка.",
    error_title: "Что-то пошло не так",
    error_text: "Попробуйте обновить страницу чуть позже.",
    back_home: "На главную",
    footer_operator: "Оператор",
    sub_title: "Ваша подписка",
    sub_active_until: "Подписка активна до",
    sub_expired: "Подписка закончилась. Продлите её в нашем Telegram-боте.",
    sub_blocked: "Доступ приостановлен. Напишите в поддержку.",
    sub_none: "Подписки пока нет. Оформите её или пробный период в нашем Telegram-боте.",
    sub_qr: "Отсканируйте QR-код в приложении или добавьте ссылку подписки вручную.",
    sub_url: "Ссылка подписки",
    sub_add: "Добавить в приложение",
    sub_links: "Ссылки для ручной настройки",
    sub_private: "Это ваша личная ссылка: никому её не передавайте.",
};

static EN: Text = Text {
    nav_home: "Home",
    nav_privacy: "Privacy",
    nav_terms: "Terms",
    nav_support: "Support",
    switch_to: "Русский",
    home_tagline: "A fast, private VPN you manage in Telegram",
    home_lead: "Connections use the VLESS protocol over TLS: they look like an ordinary secure \
                website and keep working where other VPNs get blocked. Payment, renewal and \
                support happen in our Telegram bot; setting up an app takes one link.",
    features: [
        (
            "No connection logs",
            "We keep no browsing history, no record of where you connect, and no traffic \
             content.",
        ),
        (
            "Every device",
            "Android, iPhone, Windows, macOS and Linux: v2rayNG, Hiddify, Streisand, sing-box, \
             Clash and more.",
        ),
        (
            "A subscription that updates itself",
            "Your app fetches current settings from your subscription link on its own.",
        ),
        (
            "Minimal data",
            "All we need is your Telegram account. Email is optional, and we never see card \
             details.",
        ),
    ],
    plans_title: "Plans",
    plans_empty: "Plans are coming soon.",
    or: "or",
    stars: "Telegram Stars",
    trial_before: "Try it free:",
    trial_after: "without paying.",
    start_title: "How to start",
    start_steps: [
        "Open our bot in Telegram.",
        "Pick a plan and pay with Telegram Stars or a card.",
        "Add the subscription link to your app and connect.",
    ],
    open_bot: "Open the bot in Telegram",
    no_bot: "A link to the bot will appear here once the operator sets it.",
    support_title: "Support and contacts",
    support_lead: "Questions about payment, connecting or your data: write to us and we will help.",
    support_email: "Email",
    support_telegram: "Telegram",
    support_bot: "Bot",
    support_rights: "Requests about your personal data (access, correction, deletion, withdrawing \
                     consent) are accepted by email; see the privacy policy for details.",
    support_none: "The operator has not published contacts yet.",
    not_specified: "(not specified)",
    operator_fallback: "the owner of the {service} service",
    inventory_title: "What data is stored",
    inventory_columns: ["Data", "Category", "Purpose", "Kept for"],
    not_found_title: "Page not found",
    not_found_text: "There is no such page. The link may be out of date, or the address mistyped.",
    error_title: "Something went wrong",
    error_text: "Please try reloading the page a little later.",
    back_home: "Back to the home page",
    footer_operator: "Operator",
    sub_title: "Your subscription",
    sub_active_until: "Active until",
    sub_expired: "Your subscription has ended. Renew it in our Telegram bot.",
    sub_blocked: "Access is suspended. Please contact support.",
    sub_none: "No subscription yet. Get one, or the free trial, in our Telegram bot.",
    sub_qr: "Scan the QR code in your app, or add the subscription link by hand.",
    sub_url: "Subscription link",
    sub_add: "Add to an app",
    sub_links: "Links for manual setup",
    sub_private: "This link is personal: do not share it with anyone.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rouble_prices_use_each_languages_decimal_separator() {
        let price = Money::rub_kopecks(19_950);
        assert_eq!(roubles(Language::Ru, price), "199,50");
        assert_eq!(roubles(Language::En, price), "199.50");
        assert_eq!(roubles(Language::Ru, Money::rub_kopecks(19_900)), "199");
    }
}
