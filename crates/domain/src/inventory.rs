//! The data inventory as code: every column the store has, classified. Personal data
//! ([`ENTRIES`]) names its category (privacy policy section 2), purposes (section 3) and
//! retention; every other column is listed in [`NOT_PERSONAL`] with the reason, so a new column
//! cannot appear without someone deciding what it is. `milly privacy inventory` and the
//! website's privacy page render this list; a test compares it with the live schema.
//!
//! The website speaks Russian and English, so every text the privacy page shows — each
//! category, purpose, retention rule and column description — is written here in both: an
//! entry without its Russian words does not compile, and a test refuses empty or untranslated
//! ones.

use serde::Serialize;

use crate::counts::{days, minutes};
use crate::Language;

/// Days a support ticket is kept after its last message (unless the person is erased first).
pub const SUPPORT_TICKET_RETENTION_DAYS: u32 = 365;
/// Days the bot remembers an update id it handled (Telegram redelivers for at most a day).
pub const BOT_UPDATE_RETENTION_DAYS: u32 = 2;
/// Days a gift's code stays redeemable after it was bought; then the retention job clears it.
pub const GIFT_CODE_RETENTION_DAYS: u32 = 365;
/// Days a revoked VLESS id is remembered so polling nodes learn to drop it.
pub const ACCESS_TOMBSTONE_RETENTION_DAYS: u32 = 7;

/// How long an account link (`account_links`) stays valid; see `crate::account_link`.
pub use crate::account_link::ACCOUNT_LINK_LIFETIME_MINUTES;
/// How long the admin panel's login links, sessions and audit entries last; see
/// `crate::admin_panel`.
pub use crate::admin_panel::{
    ADMIN_AUDIT_RETENTION_DAYS, ADMIN_LOGIN_LIFETIME_MINUTES, ADMIN_SESSION_MAX_DAYS,
};
/// How long a website session lasts at most; see `crate::web_session`.
pub use crate::web_session::WEB_SESSION_DAYS;

/// What kind of personal data a column holds: the list in policy section 2.1, plus the two
/// kinds the service also needs (support correspondence, from section 5.1, and the account
/// records that tie the rest together).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    TelegramId,
    TelegramName,
    TelegramUsername,
    Email,
    Payment,
    ConnectionData,
    Support,
    Account,
}

impl Category {
    pub const ALL: [Category; 8] = [
        Category::TelegramId,
        Category::TelegramName,
        Category::TelegramUsername,
        Category::Email,
        Category::Payment,
        Category::ConnectionData,
        Category::Support,
        Category::Account,
    ];

    /// The category as the policy words it (section 2.1 of either translation).
    pub fn label(self, lang: Language) -> &'static str {
        use Language::{En, Ru};
        match (self, lang) {
            (Category::TelegramId, En) => "Telegram user ID",
            (Category::TelegramId, Ru) => "Идентификатор пользователя Telegram",
            (Category::TelegramName, En) => "Telegram name and surname",
            (Category::TelegramName, Ru) => "Имя и фамилия в Telegram",
            (Category::TelegramUsername, En) => "Telegram username",
            (Category::TelegramUsername, Ru) => "Имя пользователя (username) в Telegram",
            (Category::Email, En) => "Email address (if provided by the User)",
            (Category::Email, Ru) => "Адрес электронной почты (если Пользователь его указал)",
            (Category::Payment, En) => {
                "Payment information (amount, date, status — without bank card data)"
            }
            (Category::Payment, Ru) => {
                "Платёжная информация (сумма, дата, статус — без данных банковской карты)"
            }
            (Category::ConnectionData, En) => {
                "Technical connection data (activation date, subscription period)"
            }
            (Category::ConnectionData, Ru) => {
                "Технические данные подключения (дата активации, срок подписки)"
            }
            (Category::Support, En) => "Messages to and from technical support",
            (Category::Support, Ru) => "Переписка с технической поддержкой",
            (Category::Account, En) => {
                "Account records (internal number, language, consent, status)"
            }
            (Category::Account, Ru) => "Данные аккаунта (внутренний номер, язык, согласие, статус)",
        }
    }

    /// Where the policy names this kind of data.
    pub fn clause(self) -> &'static str {
        match self {
            Category::Support => "5.1",
            Category::Account => "3.1, 4.1",
            _ => "2.1",
        }
    }
}

/// Why the data is processed: the purposes of policy section 3.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    Identification,
    Access,
    Payments,
    Support,
    Quality,
    Law,
}

impl Purpose {
    pub const ALL: [Purpose; 6] = [
        Purpose::Identification,
        Purpose::Access,
        Purpose::Payments,
        Purpose::Support,
        Purpose::Quality,
        Purpose::Law,
    ];

    /// The purpose as the policy words it (section 3.1 of either translation).
    pub fn label(self, lang: Language) -> &'static str {
        use Language::{En, Ru};
        match (self, lang) {
            (Purpose::Identification, En) => "User identification for service provision",
            (Purpose::Identification, Ru) => "Идентификация Пользователя для оказания услуг",
            (Purpose::Access, En) => "Providing access to secure internet connection",
            (Purpose::Access, Ru) => "Предоставление доступа к защищённому подключению к интернету",
            (Purpose::Payments, En) => "Payment processing and subscription management",
            (Purpose::Payments, Ru) => "Обработка платежей и управление подпиской",
            (Purpose::Support, En) => "Communication with User for technical support",
            (Purpose::Support, Ru) => "Связь с Пользователем для технической поддержки",
            (Purpose::Quality, En) => "Service quality improvement and issue resolution",
            (Purpose::Quality, Ru) => "Улучшение качества Сервиса и устранение неполадок",
            (Purpose::Law, En) => "Fulfillment of obligations under applicable law",
            (Purpose::Law, Ru) => {
                "Исполнение обязанностей, предусмотренных применимым законодательством"
            }
        }
    }
}

/// How long a column's value is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Retention {
    /// While the person is served; erased when they delete their account or withdraw consent,
    /// and `[privacy] retention_days` after their last subscription ended and their last use.
    Account,
    /// Kept as accounting law requires; at erasure the link to the person is removed.
    LegalRecord,
    /// Erased with the person, or [`SUPPORT_TICKET_RETENTION_DAYS`] after the ticket's last
    /// message, whichever comes first.
    SupportTicket,
    /// A short-lived sign-in link: valid [`ACCOUNT_LINK_LIFETIME_MINUTES`]; deleted when a newer
    /// one is issued, by the retention job once expired, or with the person.
    AccountLink,
    /// An admin's login link or panel session: valid [`ADMIN_LOGIN_LIFETIME_MINUTES`] or at
    /// most [`ADMIN_SESSION_MAX_DAYS`]; deleted at sign-out or by the retention job once expired.
    AdminSignIn,
    /// The admin panel's audit list: kept [`ADMIN_AUDIT_RETENTION_DAYS`] days.
    AdminAudit,
    /// A person's website session after signing in with Telegram: at most
    /// [`WEB_SESSION_DAYS`]; ended at sign-out, deleted by the retention job a day after it
    /// ended (its signature digest refuses a replayed login meanwhile) or with the person.
    WebSession,
    /// Who joined through whose referral link: deleted when either person is erased (or by
    /// the account rule of either).
    Referral,
    /// A gift's code: cleared when redeemed, or [`GIFT_CODE_RETENTION_DAYS`] after the purchase
    /// by the retention job. Erasing the buyer leaves a paid gift redeemable (it may already
    /// have been handed over), no longer linked to them.
    GiftCode,
    /// Card auto-renewal and Stars subscriptions: kept while on; deleted at once when the
    /// person switches it off, when it stops after failed charges, or with the person.
    AutoRenewal,
}

impl Retention {
    pub const ALL: [Retention; 10] = [
        Retention::Account,
        Retention::LegalRecord,
        Retention::SupportTicket,
        Retention::AccountLink,
        Retention::AdminSignIn,
        Retention::AdminAudit,
        Retention::WebSession,
        Retention::Referral,
        Retention::GiftCode,
        Retention::AutoRenewal,
    ];

    /// The rule in words, with the configured account retention (`retention_days`) and the
    /// fixed periods filled in.
    pub fn describe(self, lang: Language, retention_days: u32) -> String {
        use Language::{En, Ru};
        let account = days(lang, retention_days);
        match (self, lang) {
            (Retention::Account, En) => format!(
                "until deletion, or {account} after the last subscription ended and the last use"
            ),
            (Retention::Account, Ru) => format!(
                "до удаления аккаунта или {account} после окончания последней подписки и \
                 последнего использования"
            ),
            (Retention::LegalRecord, En) => {
                "as the law requires; unlinked from the person at deletion".to_owned()
            }
            (Retention::LegalRecord, Ru) => "столько, сколько требует закон; при удалении \
                 аккаунта связь с пользователем удаляется"
                .to_owned(),
            (Retention::SupportTicket, En) => format!(
                "until deletion, or {} after the ticket's last message",
                days(lang, SUPPORT_TICKET_RETENTION_DAYS)
            ),
            (Retention::SupportTicket, Ru) => format!(
                "до удаления аккаунта или {} после последнего сообщения в обращении",
                days(lang, SUPPORT_TICKET_RETENTION_DAYS)
            ),
            (Retention::AccountLink, En) => format!(
                "valid {}; deleted when a newer link is issued, by the next retention run once \
                 expired, or at deletion",
                minutes(lang, ACCOUNT_LINK_LIFETIME_MINUTES)
            ),
            (Retention::AccountLink, Ru) => format!(
                "действует {}; удаляется, когда бот выдаёт новую ссылку, при следующей плановой \
                 очистке после истечения срока или при удалении аккаунта",
                minutes(lang, ACCOUNT_LINK_LIFETIME_MINUTES)
            ),
            (Retention::AdminSignIn, En) => format!(
                "an admin's login link works {} and a panel session at most {}; deleted at \
                 sign-out or by the next retention run once expired",
                minutes(lang, ADMIN_LOGIN_LIFETIME_MINUTES),
                days(lang, ADMIN_SESSION_MAX_DAYS)
            ),
            (Retention::AdminSignIn, Ru) => format!(
                "ссылка администратора для входа действует {}, сессия в панели — не больше {}; \
                 удаляется при выходе или при следующей плановой очистке после истечения срока",
                minutes(lang, ADMIN_LOGIN_LIFETIME_MINUTES),
                days(lang, ADMIN_SESSION_MAX_DAYS)
            ),
            (Retention::AdminAudit, En) => format!(
                "{}, then deleted by the retention job",
                days(lang, ADMIN_AUDIT_RETENTION_DAYS)
            ),
            (Retention::AdminAudit, Ru) => format!(
                "{}, затем удаляется плановой очисткой",
                days(lang, ADMIN_AUDIT_RETENTION_DAYS)
            ),
            (Retention::WebSession, En) => format!(
                "a website session lasts at most {} or until sign-out; deleted by the next \
                 retention run a day after it ended, or at deletion",
                days(lang, WEB_SESSION_DAYS)
            ),
            (Retention::WebSession, Ru) => format!(
                "сессия на сайте длится не больше {} или до выхода; удаляется при следующей \
                 плановой очистке через день после окончания или при удалении аккаунта",
                days(lang, WEB_SESSION_DAYS)
            ),
            (Retention::Referral, En) => format!(
                "until either person is deleted, or {account} after the last subscription ended \
                 and the last use of either"
            ),
            (Retention::Referral, Ru) => format!(
                "до удаления аккаунта любого из двух пользователей или {account} после окончания \
                 последней подписки и последнего использования любого из них"
            ),
            (Retention::GiftCode, En) => format!(
                "until redeemed, or {} after the purchase; the buyer's deletion leaves a paid \
                 gift redeemable, no longer linked to them",
                days(lang, GIFT_CODE_RETENTION_DAYS)
            ),
            (Retention::GiftCode, Ru) => format!(
                "до активации или {} после покупки; после удаления аккаунта покупателя \
                 оплаченный подарок по-прежнему можно активировать, но с покупателем он больше \
                 не связан",
                days(lang, GIFT_CODE_RETENTION_DAYS)
            ),
            (Retention::AutoRenewal, En) => "while auto-renewal is on; deleted at once when the \
                 person switches it off, when it stops after failed charges, or at deletion"
                .to_owned(),
            (Retention::AutoRenewal, Ru) => "пока автопродление включено; удаляется сразу, когда \
                 пользователь его отключает, когда оно останавливается после неудачных списаний, \
                 или при удалении аккаунта"
                .to_owned(),
        }
    }
}

/// One column holding personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub table: &'static str,
    pub column: &'static str,
    pub category: Category,
    pub purposes: &'static [Purpose],
    pub retention: Retention,
    /// What the column holds, in a few words.
    pub holds: Wording,
}

/// A short text in both languages the website speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Wording {
    pub en: &'static str,
    pub ru: &'static str,
}

impl Wording {
    pub fn get(self, lang: Language) -> &'static str {
        match lang {
            Language::En => self.en,
            Language::Ru => self.ru,
        }
    }
}

/// One column that holds no personal data, and why not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct NotPersonal {
    pub table: &'static str,
    pub column: &'static str,
    pub why: &'static str,
}

use Category as C;
use Purpose as P;
use Retention as R;

const IDENTIFY: &[Purpose] = &[P::Identification];
const SERVE: &[Purpose] = &[P::Identification, P::Access];
const ACCESS: &[Purpose] = &[P::Access];
const SUBSCRIBE: &[Purpose] = &[P::Access, P::Payments];
const PAY: &[Purpose] = &[P::Payments, P::Law];
const SUPPORT: &[Purpose] = &[P::Support, P::Quality];
const PROMO: &[Purpose] = &[P::Payments];
const REMIND: &[Purpose] = &[P::Payments, P::Support];
const SIGN_IN: &[Purpose] = &[P::Identification];
const AUDIT: &[Purpose] = &[P::Identification, P::Quality];
const REFER: &[Purpose] = &[P::Payments];

const fn entry(
    table: &'static str,
    column: &'static str,
    category: Category,
    purposes: &'static [Purpose],
    retention: Retention,
    holds_en: &'static str,
    holds_ru: &'static str,
) -> Entry {
    Entry {
        table,
        column,
        category,
        purposes,
        retention,
        holds: Wording {
            en: holds_en,
            ru: holds_ru,
        },
    }
}

const fn not_personal(table: &'static str, column: &'static str, why: &'static str) -> NotPersonal {
    NotPersonal { table, column, why }
}

/// Every column that holds personal data: where, what kind, why, how long, and what it holds in
/// English, then in Russian.
#[rustfmt::skip]
pub const ENTRIES: &[Entry] = &[
    entry("users", "id", C::Account, SERVE, R::Account, "internal account number",
        "внутренний номер аккаунта"),
    entry("users", "telegram_id", C::TelegramId, SERVE, R::Account, "Telegram user id",
        "идентификатор пользователя Telegram"),
    entry("users", "first_name", C::TelegramName, IDENTIFY, R::Account, "first name as Telegram reports it",
        "имя, как его передаёт Telegram"),
    entry("users", "last_name", C::TelegramName, IDENTIFY, R::Account, "surname as Telegram reports it",
        "фамилия, как её передаёт Telegram"),
    entry("users", "username", C::TelegramUsername, IDENTIFY, R::Account, "@username as Telegram reports it",
        "@username, как его передаёт Telegram"),
    entry("users", "email", C::Email, &[P::Payments, P::Support], R::Account, "email, only if the person gave one (receipts, replies)",
        "email — только если пользователь его указал (для чеков и ответов)"),
    entry("users", "language", C::Account, IDENTIFY, R::Account, "language the bot and site speak to the person",
        "язык, на котором бот и сайт общаются с пользователем"),
    entry("users", "consent_at", C::Account, &[P::Law], R::Account, "when the person accepted the privacy policy",
        "когда пользователь принял политику конфиденциальности"),
    entry("users", "blocked", C::Account, ACCESS, R::Account, "whether the operator blocked the account",
        "заблокировал ли оператор аккаунт"),
    entry("users", "created_at", C::Account, IDENTIFY, R::Account, "when the account was created",
        "когда создан аккаунт"),
    entry("users", "last_seen_at", C::Account, &[P::Law], R::Account, "last use of the service (day-level, for the retention rule)",
        "последнее использование Сервиса (с точностью до дня, для правила о сроке хранения)"),
    entry("users", "bot_unreachable", C::Account, &[P::Support], R::Account, "whether the person blocked the bot",
        "заблокировал ли пользователь бота"),
    entry("subscriptions", "user_id", C::Account, SUBSCRIBE, R::Account, "whose subscription",
        "чья подписка"),
    entry("subscriptions", "plan", C::ConnectionData, SUBSCRIBE, R::Account, "plan of the current period",
        "тариф текущего периода"),
    entry("subscriptions", "activated_at", C::ConnectionData, SUBSCRIBE, R::Account, "activation date",
        "дата активации"),
    entry("subscriptions", "ends_at", C::ConnectionData, SUBSCRIBE, R::Account, "end of the subscription period",
        "окончание срока подписки"),
    entry("credentials", "user_id", C::Account, ACCESS, R::Account, "whose credentials",
        "чьи данные для подключения"),
    entry("credentials", "vless_uuid", C::ConnectionData, ACCESS, R::Account, "the person's VLESS id (a password for the node)",
        "VLESS-идентификатор пользователя (пароль для сервера)"),
    entry("credentials", "sub_token", C::ConnectionData, ACCESS, R::Account, "secret of the subscription URL",
        "секрет ссылки подписки"),
    entry("credentials", "access_revision", C::ConnectionData, ACCESS, R::Account, "when the person's access last changed (a counter)",
        "когда последний раз менялся доступ пользователя (счётчик)"),
    entry("account_links", "token_hash", C::Account, SIGN_IN, R::AccountLink, "hash of the data-management link the bot gave (the link itself is never stored)",
        "хеш ссылки для управления данными, которую выдал бот (сама ссылка не хранится)"),
    entry("account_links", "user_id", C::Account, SIGN_IN, R::AccountLink, "whose link",
        "чья ссылка"),
    entry("account_links", "created_at", C::Account, SIGN_IN, R::AccountLink, "when the bot issued it",
        "когда бот её выдал"),
    entry("account_links", "expires_at", C::Account, SIGN_IN, R::AccountLink, "when it stops working",
        "когда она перестаёт действовать"),
    entry("web_sessions", "token_hash", C::Account, SIGN_IN, R::WebSession, "hash of the website session cookie after signing in with Telegram (the cookie itself is never stored)",
        "хеш файла cookie сессии на сайте после входа через Telegram (сам файл cookie не хранится)"),
    entry("web_sessions", "user_id", C::Account, SIGN_IN, R::WebSession, "whose session",
        "чья сессия"),
    entry("web_sessions", "login_digest", C::Account, SIGN_IN, R::WebSession, "hash of the signature of Telegram's login data, so the same login cannot open a second session",
        "хеш подписи данных входа от Telegram, чтобы один и тот же вход не открыл вторую сессию"),
    entry("web_sessions", "created_at", C::Account, SIGN_IN, R::WebSession, "when the person signed in",
        "когда пользователь вошёл"),
    entry("web_sessions", "expires_at", C::Account, SIGN_IN, R::WebSession, "when the session ends (sign-out sets it to that moment)",
        "когда сессия заканчивается (при выходе — в момент выхода)"),
    entry("payments", "id", C::Payment, PAY, R::LegalRecord, "payment number",
        "номер платежа"),
    entry("payments", "user_id", C::Account, PAY, R::Account, "who paid; removed at deletion",
        "кто заплатил; удаляется при удалении аккаунта"),
    entry("payments", "provider", C::Payment, PAY, R::LegalRecord, "payment system (YooKassa, Telegram Stars)",
        "платёжная система (ЮKassa, Telegram Stars)"),
    entry("payments", "provider_payment_id", C::Payment, PAY, R::LegalRecord, "the payment system's id of the payment",
        "идентификатор платежа в платёжной системе"),
    entry("payments", "plan", C::Payment, PAY, R::LegalRecord, "plan bought",
        "купленный тариф"),
    entry("payments", "days", C::Payment, PAY, R::LegalRecord, "days bought",
        "купленные дни"),
    entry("payments", "amount_minor", C::Payment, PAY, R::LegalRecord, "amount",
        "сумма"),
    entry("payments", "currency", C::Payment, PAY, R::LegalRecord, "currency",
        "валюта"),
    entry("payments", "status", C::Payment, PAY, R::LegalRecord, "status (pending, succeeded, ...)",
        "статус (ожидает оплаты, оплачен, ...)"),
    entry("payments", "created_at", C::Payment, PAY, R::LegalRecord, "date",
        "дата"),
    entry("payments", "updated_at", C::Payment, PAY, R::LegalRecord, "date of the last status change",
        "дата последнего изменения статуса"),
    entry("payments", "refunded_minor", C::Payment, PAY, R::LegalRecord, "amount given back, if any",
        "возвращённая сумма, если был возврат"),
    entry("payments", "return_token", C::Payment, PAY, R::Account, "secret of the card payment's return page (shows only its status); removed at deletion",
        "секрет страницы, куда возвращает оплата картой (показывает только статус платежа); удаляется при удалении аккаунта"),
    entry("payments", "promo_code_id", C::Payment, PAY, R::LegalRecord, "the discount code the price was offered with, if any",
        "промокод, со скидкой по которому была предложена цена, если он был"),
    entry("promo_redemptions", "user_id", C::Account, PROMO, R::Account, "who used a promo code; deleted at deletion",
        "кто применил промокод; удаляется при удалении аккаунта"),
    entry("promo_redemptions", "promo_code_id", C::Payment, PROMO, R::Account, "which promo code they used (once per person)",
        "какой промокод применён (один раз на пользователя)"),
    entry("promo_redemptions", "payment_id", C::Payment, PROMO, R::Account, "the payment it discounted (none for free days)",
        "платёж, к которому применена скидка (нет для бесплатных дней)"),
    entry("promo_redemptions", "redeemed_at", C::Payment, PROMO, R::Account, "when they used it",
        "когда промокод применён"),
    entry("payments", "saves_method", C::Payment, PAY, R::LegalRecord, "whether the payer chose auto-renewal at checkout (so the payment method was to be saved)",
        "выбрал ли плательщик автопродление при оплате (то есть способ оплаты нужно было сохранить)"),
    entry("auto_renewals", "user_id", C::Account, PAY, R::AutoRenewal, "whose auto-renewal",
        "чьё автопродление"),
    entry("auto_renewals", "plan", C::Payment, PAY, R::AutoRenewal, "the plan each renewal buys",
        "тариф, который покупает каждое продление"),
    entry("auto_renewals", "payment_method_id", C::Payment, PAY, R::AutoRenewal, "YooKassa's id of the saved payment method (no card number, not even its last digits)",
        "идентификатор сохранённого способа оплаты в ЮKassa (без номера карты, даже без последних цифр)"),
    entry("auto_renewals", "enabled_at", C::Payment, PAY, R::AutoRenewal, "when the person switched auto-renewal on",
        "когда пользователь включил автопродление"),
    entry("auto_renewals", "period_end", C::Payment, PAY, R::AutoRenewal, "the subscription end the latest charge was for",
        "окончание подписки, к которому относится последнее списание"),
    entry("auto_renewals", "attempts", C::Payment, PAY, R::AutoRenewal, "charges tried for that period (at most 3)",
        "попытки списания за этот период (не больше 3)"),
    entry("auto_renewals", "next_attempt_at", C::Payment, PAY, R::AutoRenewal, "when a failed charge may be retried",
        "когда можно повторить неудавшееся списание"),
    entry("auto_renewals", "payment_id", C::Payment, PAY, R::AutoRenewal, "our payment of the latest charge",
        "наш платёж последнего списания"),
    entry("stars_subscriptions", "user_id", C::Account, PAY, R::AutoRenewal, "whose Telegram Stars subscription",
        "чья подписка Telegram Stars"),
    entry("stars_subscriptions", "plan", C::Payment, PAY, R::AutoRenewal, "the plan it renews",
        "тариф, который она продлевает"),
    entry("stars_subscriptions", "charge_id", C::Payment, PAY, R::AutoRenewal, "Telegram's charge id of its latest payment (to cancel it from the bot)",
        "идентификатор её последнего платежа в Telegram (чтобы отменить её из бота)"),
    entry("stars_subscriptions", "renews_until", C::Payment, PAY, R::AutoRenewal, "until when Telegram says it is paid",
        "до какого момента она оплачена, по данным Telegram"),
    entry("admin_login_tokens", "token_hash", C::Account, SIGN_IN, R::AdminSignIn, "hash of an admin's one-time panel login link (the link itself is never stored)",
        "хеш одноразовой ссылки администратора для входа в панель (сама ссылка не хранится)"),
    entry("admin_login_tokens", "telegram_id", C::TelegramId, SIGN_IN, R::AdminSignIn, "the admin's Telegram id",
        "идентификатор администратора в Telegram"),
    entry("admin_login_tokens", "created_at", C::Account, SIGN_IN, R::AdminSignIn, "when the bot issued it",
        "когда бот её выдал"),
    entry("admin_login_tokens", "expires_at", C::Account, SIGN_IN, R::AdminSignIn, "when it stops working",
        "когда она перестаёт действовать"),
    entry("admin_login_tokens", "used_at", C::Account, SIGN_IN, R::AdminSignIn, "when it was used (once)",
        "когда ею воспользовались (один раз)"),
    entry("admin_sessions", "token_hash", C::Account, SIGN_IN, R::AdminSignIn, "hash of an admin's panel session cookie",
        "хеш файла cookie сессии администратора в панели"),
    entry("admin_sessions", "telegram_id", C::TelegramId, SIGN_IN, R::AdminSignIn, "the admin's Telegram id",
        "идентификатор администратора в Telegram"),
    entry("admin_sessions", "created_at", C::Account, SIGN_IN, R::AdminSignIn, "when the admin signed in",
        "когда администратор вошёл"),
    entry("admin_sessions", "last_seen_at", C::Account, SIGN_IN, R::AdminSignIn, "the session's last request (for the idle timeout)",
        "последний запрос в сессии (для завершения при бездействии)"),
    entry("admin_sessions", "expires_at", C::Account, SIGN_IN, R::AdminSignIn, "when the session ends however busy",
        "когда сессия закончится, даже если администратор активен"),
    entry("admin_audit", "id", C::Account, AUDIT, R::AdminAudit, "entry number",
        "номер записи"),
    entry("admin_audit", "at", C::Account, AUDIT, R::AdminAudit, "when an admin acted",
        "когда администратор совершил действие"),
    entry("admin_audit", "admin_telegram_id", C::TelegramId, AUDIT, R::AdminAudit, "which admin acted",
        "какой администратор действовал"),
    entry("admin_audit", "action", C::Account, AUDIT, R::AdminAudit, "what they did (extend, block, refund, ...)",
        "что он сделал (продлил, заблокировал, вернул деньги, ...)"),
    entry("admin_audit", "target_kind", C::Account, AUDIT, R::AdminAudit, "what it was done to: a user, a payment, a node or a broadcast",
        "с чем: с пользователем, платежом, сервером или рассылкой"),
    entry("admin_audit", "target_id", C::Account, AUDIT, R::AdminAudit, "its internal number (never a name or Telegram id)",
        "внутренний номер этого пользователя, платежа, сервера или рассылки (не имя и не идентификатор Telegram)"),
    entry("broadcasts", "admin_telegram_id", C::TelegramId, AUDIT, R::AdminAudit, "which admin started a broadcast",
        "какой администратор запустил рассылку"),
    entry("referral_codes", "user_id", C::Account, REFER, R::Account, "whose referral link",
        "чья ссылка-приглашение"),
    entry("referral_codes", "code", C::Account, REFER, R::Account, "the random code in the person's referral link",
        "случайный код в ссылке-приглашении пользователя"),
    entry("referral_codes", "created_at", C::Account, REFER, R::Account, "when the person first asked for their link",
        "когда пользователь впервые запросил свою ссылку"),
    entry("referrals", "newcomer_id", C::Account, REFER, R::Referral, "who joined through a referral link (never shown to the referrer)",
        "кто пришёл по ссылке-приглашению (пригласившему не показывается)"),
    entry("referrals", "referrer_id", C::Account, REFER, R::Referral, "whose link it was (never shown to the newcomer)",
        "чья это была ссылка (приглашённому не показывается)"),
    entry("referrals", "joined_at", C::Account, REFER, R::Referral, "when the newcomer joined",
        "когда пришёл приглашённый"),
    entry("referrals", "reward_days", C::Payment, REFER, R::Referral, "bonus days offered to the referrer when the newcomer joined",
        "бонусные дни, обещанные пригласившему, когда пришёл приглашённый"),
    entry("referrals", "welcome_days", C::Payment, REFER, R::Referral, "bonus days offered to the newcomer",
        "бонусные дни, обещанные приглашённому"),
    entry("referrals", "rewarded_at", C::Payment, REFER, R::Referral, "when the newcomer's first payment earned the rewards (once)",
        "когда первая оплата приглашённого принесла бонусы (один раз)"),
    entry("gifts", "payment_id", C::Payment, PAY, R::LegalRecord, "the payment that bought the gift (the buyer is that payment's payer)",
        "платёж, которым оплачен подарок (покупатель — тот, кто внёс этот платёж)"),
    entry("gifts", "code", C::Payment, PAY, R::GiftCode, "the gift's code (shown to the buyer only)",
        "код подарка (его видит только покупатель)"),
    entry("gifts", "redeemed_by", C::Account, PAY, R::Account, "who redeemed the gift; removed at their deletion",
        "кто активировал подарок; удаляется при удалении его аккаунта"),
    entry("gifts", "redeemed_at", C::Payment, PAY, R::LegalRecord, "when the gift was redeemed",
        "когда подарок активирован"),
    entry("reminders_sent", "user_id", C::Account, REMIND, R::Account, "who was reminded",
        "кому отправлено напоминание"),
    entry("reminders_sent", "kind", C::ConnectionData, REMIND, R::Account, "which reminder",
        "какое напоминание"),
    entry("reminders_sent", "ends_at", C::ConnectionData, REMIND, R::Account, "the subscription end it was about",
        "окончание подписки, о котором оно было"),
    entry("reminders_sent", "sent_at", C::ConnectionData, REMIND, R::Account, "when it was sent",
        "когда оно отправлено"),
    entry("conversations", "user_id", C::Account, &[P::Identification, P::Support], R::Account, "whose conversation",
        "чей диалог"),
    entry("conversations", "state", C::Account, &[P::Identification, P::Support], R::Account, "where the person is in a dialogue with the bot",
        "на каком шаге диалога с ботом находится пользователь"),
    entry("conversations", "updated_at", C::Account, &[P::Identification, P::Support], R::Account, "when the dialogue last moved",
        "когда диалог последний раз продвинулся"),
    entry("support_tickets", "id", C::Support, SUPPORT, R::SupportTicket, "ticket number",
        "номер обращения"),
    entry("support_tickets", "user_id", C::Account, SUPPORT, R::SupportTicket, "who opened it",
        "кто его открыл"),
    entry("support_tickets", "opened_at", C::Support, SUPPORT, R::SupportTicket, "when it was opened",
        "когда оно открыто"),
    entry("support_tickets", "updated_at", C::Support, SUPPORT, R::SupportTicket, "when it last had a message",
        "когда в нём было последнее сообщение"),
    entry("support_messages", "id", C::Support, SUPPORT, R::SupportTicket, "message number",
        "номер сообщения"),
    entry("support_messages", "ticket_id", C::Support, SUPPORT, R::SupportTicket, "its ticket",
        "его обращение"),
    entry("support_messages", "from_operator", C::Support, SUPPORT, R::SupportTicket, "whether the operator wrote it",
        "написал ли его оператор"),
    entry("support_messages", "body", C::Support, SUPPORT, R::SupportTicket, "the message text",
        "текст сообщения"),
    entry("support_messages", "created_at", C::Support, SUPPORT, R::SupportTicket, "when it was written",
        "когда оно написано"),
    entry("support_messages", "relay_chat_id", C::Support, SUPPORT, R::SupportTicket, "the operator's support chat it was copied to",
        "чат поддержки оператора, куда оно скопировано"),
    entry("support_messages", "relay_message_id", C::Support, SUPPORT, R::SupportTicket, "the copy's message number there",
        "номер копии сообщения в том чате"),
];

/// Every column that holds no personal data.
pub const NOT_PERSONAL: &[NotPersonal] = &[
    not_personal("meta", "key", "name of a service-wide counter"),
    not_personal("meta", "value", "a service-wide counter"),
    not_personal("nodes", "id", "the operator's server"),
    not_personal("nodes", "name", "the operator's server"),
    not_personal("nodes", "location", "the operator's server"),
    not_personal("nodes", "public_host", "the operator's server"),
    not_personal("nodes", "port", "the operator's server"),
    not_personal("nodes", "security", "the operator's server"),
    not_personal("nodes", "kind", "the operator's server"),
    not_personal("nodes", "enabled", "the operator's server"),
    not_personal("nodes", "position", "the operator's server"),
    not_personal("nodes", "via_node_id", "the operator's server"),
    not_personal(
        "nodes",
        "credential_sha256",
        "the operator's server's key fingerprint",
    ),
    not_personal("nodes", "private_settings", "the operator's server's keys"),
    not_personal(
        "nodes",
        "chain_key",
        "an entry server's key towards its exit server",
    ),
    not_personal(
        "node_join_tokens",
        "token_sha256",
        "hash of a one-time enrolment secret",
    ),
    not_personal("node_join_tokens", "node_id", "the operator's server"),
    not_personal(
        "node_join_tokens",
        "expires_at",
        "when the enrolment secret stops working",
    ),
    not_personal(
        "node_join_tokens",
        "used_at",
        "when the enrolment secret was used",
    ),
    not_personal("node_status", "node_id", "the operator's server"),
    not_personal("node_status", "software_version", "the operator's server"),
    not_personal("node_status", "applied_revision", "a counter"),
    not_personal(
        "node_status",
        "connections",
        "open connections on a server, all users together",
    ),
    not_personal(
        "node_status",
        "bytes_up",
        "bytes carried by a server, all users together",
    ),
    not_personal(
        "node_status",
        "bytes_down",
        "bytes carried by a server, all users together",
    ),
    not_personal(
        "node_status",
        "last_seen_at",
        "when the server last reported",
    ),
    not_personal("node_alerts", "node_id", "the operator's server"),
    not_personal(
        "node_alerts",
        "offline_alerted",
        "whether the admins were told a server is offline",
    ),
    not_personal(
        "node_alerts",
        "behind_revision",
        "a counter a server had not reached",
    ),
    not_personal(
        "node_alerts",
        "behind_since",
        "when a server was first seen behind",
    ),
    not_personal(
        "node_alerts",
        "behind_alerted",
        "whether the admins were told a server is behind",
    ),
    not_personal("node_alerts", "version", "a counter"),
    not_personal("promo_codes", "id", "a promo code's number"),
    not_personal("promo_codes", "code", "the operator's promo code"),
    not_personal("promo_codes", "kind", "free days or a discount"),
    not_personal("promo_codes", "amount", "how many days or percent"),
    not_personal("promo_codes", "plan", "the plan it is limited to"),
    not_personal("promo_codes", "max_uses", "the operator's limit"),
    not_personal("promo_codes", "valid_until", "when it stops working"),
    not_personal(
        "promo_codes",
        "disabled",
        "whether the operator turned it off",
    ),
    not_personal(
        "promo_codes",
        "uses",
        "how often it was used, everyone together (a count)",
    ),
    not_personal("promo_codes", "created_at", "when the operator made it"),
    not_personal("broadcasts", "id", "a broadcast's number"),
    not_personal(
        "broadcasts",
        "created_at",
        "when an admin started a broadcast",
    ),
    not_personal(
        "broadcasts",
        "audience",
        "which group it is for (all, active, ...)",
    ),
    not_personal(
        "broadcasts",
        "body",
        "the admins' announcement to everyone in the group, about the service",
    ),
    not_personal(
        "broadcasts",
        "cursor_user_id",
        "how far the sending got: an internal number, no more than a counter",
    ),
    not_personal("broadcasts", "recipients", "a count"),
    not_personal("broadcasts", "sent", "a count"),
    not_personal("broadcasts", "failed", "a count"),
    not_personal("broadcasts", "blocked", "a count"),
    not_personal(
        "broadcasts",
        "expired_days",
        "the N of an \"expired in the last N days\" audience",
    ),
    not_personal("broadcasts", "finished_at", "when the sending ended"),
    not_personal("control_plane", "id", "the one row"),
    not_personal(
        "control_plane",
        "certificate_pem",
        "the control plane's certificate",
    ),
    not_personal(
        "control_plane",
        "private_key_pem",
        "the control plane's key",
    ),
    not_personal(
        "control_plane",
        "feed_epoch",
        "a random id of the access revisions",
    ),
    not_personal(
        "trial_claims",
        "claim_key",
        "keyed one-way hash of a Telegram id (key only in the data directory); kept after \
         deletion so a trial is taken once, and links to no stored record",
    ),
    not_personal(
        "trial_claims",
        "claimed_at",
        "belongs to an unlinkable claim key",
    ),
    not_personal(
        "referral_claims",
        "claim_key",
        "keyed one-way hash of a Telegram id (key only in the data directory, another domain \
         than the trial's); kept after deletion so a person is referred once, and links to no \
         stored record",
    ),
    not_personal(
        "referral_claims",
        "claimed_at",
        "belongs to an unlinkable claim key",
    ),
    not_personal(
        "access_tombstones",
        "vless_uuid",
        "a random id that no longer grants access and links to no stored record; pruned",
    ),
    not_personal("access_tombstones", "revision", "a counter"),
    not_personal(
        "access_tombstones",
        "removed_at",
        "when the id stopped working; pruned",
    ),
    not_personal(
        "bot_updates",
        "update_id",
        "Telegram's update counter; pruned after days",
    ),
    not_personal(
        "bot_updates",
        "received_at",
        "when an update arrived; pruned after days",
    ),
];

/// The personal-data entry for `table.column`, if it is one.
pub fn entry_for(table: &str, column: &str) -> Option<&'static Entry> {
    ENTRIES
        .iter()
        .find(|e| e.table == table && e.column == column)
}

/// Whether `table.column` is declared at all, personal or not.
pub fn is_declared(table: &str, column: &str) -> bool {
    entry_for(table, column).is_some()
        || NOT_PERSONAL
            .iter()
            .any(|n| n.table == table && n.column == column)
}

/// Declarations that disagree with `schema` (table name and its columns, as the database
/// reports them): columns nobody classified, and declarations of columns that do not exist.
/// Empty when the inventory and the schema match exactly.
pub fn compare_with_schema(schema: &[(String, Vec<String>)]) -> Vec<String> {
    let mut problems = Vec::new();
    for (table, columns) in schema {
        for column in columns {
            if !is_declared(table, column) {
                problems.push(format!(
                    "{table}.{column} is in the schema but not in the inventory: classify it"
                ));
            }
        }
    }
    let exists = |table: &str, column: &str| {
        schema
            .iter()
            .any(|(t, cols)| t == table && cols.iter().any(|c| c == column))
    };
    let declared = ENTRIES
        .iter()
        .map(|e| (e.table, e.column))
        .chain(NOT_PERSONAL.iter().map(|n| (n.table, n.column)));
    for (table, column) in declared {
        if !exists(table, column) {
            problems.push(format!(
                "{table}.{column} is in the inventory but not in the schema"
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(pairs: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
        pairs
            .iter()
            .map(|(t, cols)| (t.to_string(), cols.iter().map(|c| c.to_string()).collect()))
            .collect()
    }

    /// The schema exactly as the inventory declares it.
    fn declared_schema() -> Vec<(String, Vec<String>)> {
        let mut tables: Vec<(String, Vec<String>)> = Vec::new();
        let all = ENTRIES
            .iter()
            .map(|e| (e.table, e.column))
            .chain(NOT_PERSONAL.iter().map(|n| (n.table, n.column)));
        for (table, column) in all {
            match tables.iter_mut().find(|(t, _)| t == table) {
                Some((_, cols)) => cols.push(column.to_owned()),
                None => tables.push((table.to_owned(), vec![column.to_owned()])),
            }
        }
        tables
    }

    #[test]
    fn no_column_is_declared_twice() {
        let mut seen = std::collections::HashSet::new();
        for e in ENTRIES {
            assert!(seen.insert((e.table, e.column)), "{}.{}", e.table, e.column);
        }
        for n in NOT_PERSONAL {
            assert!(seen.insert((n.table, n.column)), "{}.{}", n.table, n.column);
        }
    }

    #[test]
    fn every_personal_column_has_a_purpose() {
        for e in ENTRIES {
            assert!(!e.purposes.is_empty(), "{}.{}", e.table, e.column);
        }
    }

    #[test]
    fn every_category_of_the_policy_is_stored_somewhere() {
        for c in Category::ALL {
            assert!(ENTRIES.iter().any(|e| e.category == c), "{c:?}");
        }
    }

    #[test]
    fn a_schema_matching_the_inventory_has_no_problems() {
        assert_eq!(
            compare_with_schema(&declared_schema()),
            Vec::<String>::new()
        );
    }

    #[test]
    fn an_undeclared_column_is_reported() {
        let mut s = declared_schema();
        s[0].1.push("phone_number".into());
        let problems = compare_with_schema(&s);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("phone_number"));
    }

    #[test]
    fn a_declared_column_the_schema_lacks_is_reported() {
        let problems = compare_with_schema(&schema(&[("users", &["id"])]));
        assert!(problems.iter().any(|p| p.contains("users.email")));
        assert!(!problems.iter().any(|p| p.starts_with("users.id ")));
    }

    #[test]
    fn card_data_is_never_declared() {
        for e in ENTRIES {
            assert!(!e.column.contains("card"), "{}.{}", e.table, e.column);
        }
    }

    #[test]
    fn retention_descriptions_name_the_configured_days() {
        assert!(Retention::Account
            .describe(Language::En, 1095)
            .contains("1095 days"));
        assert!(Retention::Account
            .describe(Language::Ru, 1095)
            .contains("1095 дней"));
        for lang in Language::ALL {
            assert!(Retention::SupportTicket
                .describe(lang, 1)
                .contains(&SUPPORT_TICKET_RETENTION_DAYS.to_string()));
        }
        assert!(Retention::AccountLink
            .describe(Language::En, 1)
            .contains(&format!("{ACCOUNT_LINK_LIFETIME_MINUTES} minutes")));
        assert!(Retention::AccountLink
            .describe(Language::Ru, 1)
            .contains(&minutes(Language::Ru, ACCOUNT_LINK_LIFETIME_MINUTES)));
    }

    /// English texts the Russian page may show unchanged because they are proper names.
    const PROPER_NAMES: &[&str] = &[];

    /// `ru` is a real Russian text for `en`: not empty, not the English copied over, and
    /// written in Cyrillic, unless `en` is a proper name.
    fn assert_translated(what: &str, en: &str, ru: &str) {
        assert!(!en.trim().is_empty(), "{what} has no English text");
        assert!(!ru.trim().is_empty(), "{what} has no Russian text");
        if PROPER_NAMES.contains(&en) {
            return;
        }
        assert_ne!(en, ru, "{what}: the Russian text is the English one");
        assert!(
            ru.chars()
                .any(|c| matches!(c, 'а'..='я' | 'А'..='Я' | 'ё' | 'Ё')),
            "{what}: the Russian text has no Russian word: {ru}"
        );
    }

    #[test]
    fn every_text_of_the_privacy_page_is_in_russian_too() {
        for e in ENTRIES {
            let what = format!("{}.{}", e.table, e.column);
            assert_translated(&what, e.holds.en, e.holds.ru);
        }
        // The lists, and whatever the entries use, in case a list misses a new variant.
        let categories = Category::ALL
            .into_iter()
            .chain(ENTRIES.iter().map(|e| e.category));
        for c in categories {
            let what = format!("{c:?}");
            assert_translated(&what, c.label(Language::En), c.label(Language::Ru));
        }
        let used = ENTRIES.iter().flat_map(|e| e.purposes.iter().copied());
        for p in Purpose::ALL.into_iter().chain(used) {
            let what = format!("{p:?}");
            assert_translated(&what, p.label(Language::En), p.label(Language::Ru));
        }
        let retentions = Retention::ALL
            .into_iter()
            .chain(ENTRIES.iter().map(|e| e.retention));
        for r in retentions {
            let (en, ru) = (
                r.describe(Language::En, 1095),
                r.describe(Language::Ru, 1095),
            );
            assert_translated(&format!("{r:?}"), &en, &ru);
        }
    }
}
