//! The sentences of signing in with Telegram and of the signed-in person's page (`/me`): their
//! subscription, paying by card and signing out, in Russian and English.

use domain::Language;

/// One language's strings for `/login` and `/me`. A field missing in one language is a compile
/// error.
pub struct MeText {
    pub login_title: &'static str,
    pub login_lead: &'static str,
    pub login_button: &'static str,
    pub login_consent: &'static str,
    pub login_unavailable: &'static str,
    pub returning_title: &'static str,
    pub returning_text: &'static str,
    pub continue_button: &'static str,
    pub refused_title: &'static str,
    pub refused_text: &'static str,
    pub no_account_title: &'static str,
    pub no_account_text: &'static str,
    pub me_title: &'static str,
    pub active_until: &'static str,
    pub days_left: &'static str,
    pub plan: &'static str,
    pub expired: &'static str,
    pub none: &'static str,
    pub blocked: &'static str,
    pub sub_link: &'static str,
    pub sub_link_hint: &'static str,
    pub pay_title: &'static str,
    pub pay_note: &'static str,
    pub pay_button: &'static str,
    pub method: &'static str,
    pub no_card_payments: &'static str,
    pub days: &'static str,
    pub sign_out: &'static str,
    pub signed_out_title: &'static str,
    pub signed_out_text: &'static str,
    pub renew_title: &'static str,
    pub renew_hint: &'static str,
    pub pay_failed: &'static str,
    pub method_bank_card: &'static str,
    pub method_sbp: &'static str,
    pub method_sberbank: &'static str,
    pub method_yoo_money: &'static str,
}

impl MeText {
    pub fn get(lang: Language) -> &'static MeText {
        match lang {
            Language::Ru => &RU,
            Language::En => &EN,
        }
    }

    /// How a YooKassa payment method is called on the page.
    pub fn method(&self, code: &str) -> &'static str {
        match code {
            "bank_card" => self.method_bank_card,
            "sbp" => self.method_sbp,
            "sberbank" => self.method_sberbank,
            _ => self.method_yoo_money,
        }
    }
}

static RU: MeText = MeText {
    login_title: "Вход через Telegram",
    login_lead: "Войдите своим аккаунтом Telegram, чтобы увидеть подписку и оплатить её картой \
        без бота. Пароль не нужен: Telegram подтверждает, что это вы.",
    login_button: "Войти через Telegram",
    login_consent: "Войти можно, если вы уже начали пользоваться сервисом в нашем Telegram-боте \
        и приняли там политику конфиденциальности. Мы получаем от Telegram ваш ID, имя и \
        username — те же данные, что и бот.",
    login_unavailable: "Вход через Telegram на этом сайте не настроен. Откройте нашего \
        Telegram-бота.",
    returning_title: "Входим…",
    returning_text: "Проверяем ответ Telegram. Если ничего не происходит, нажмите кнопку.",
    continue_button: "Продолжить",
    refused_title: "Вход не удался",
    refused_text: "Ответ Telegram не прошёл проверку, устарел или уже использован. \
        Попробуйте войти ещё раз.",
    no_account_title: "Сначала — бот",
    no_account_text: "У этого аккаунта Telegram ещё нет подписки у нас. Откройте нашего \
        Telegram-бота, примите политику конфиденциальности и возвращайтесь: после этого здесь \
        можно будет войти. Мы ничего не сохранили.",
    me_title: "Моя подписка",
    active_until: "Активна до",
    days_left: "Осталось дней:",
    plan: "Тариф:",
    expired: "Подписка закончилась. Продлите её ниже.",
    none: "Подписки пока нет. Оформите её ниже.",
    blocked: "Аккаунт заблокирован. Напишите в поддержку.",
    sub_link: "Ссылка для приложений",
    sub_link_hint: "Добавьте её в приложение или отсканируйте QR-код. Не делитесь ею: по ней \
        подключаются от вашего имени.",
    pay_title: "Оплатить картой",
    pay_note: "Оплата на странице ЮKassa. Данные карты мы не получаем.",
    pay_button: "Оплатить",
    method: "Способ оплаты:",
    no_card_payments: "Оплата картой сейчас недоступна. Оплатить можно в Telegram-боте.",
    days: "дн.",
    sign_out: "Выйти",
    signed_out_title: "Вы вышли",
    signed_out_text: "Сеанс на этом сайте завершён.",
    renew_title: "Продлить",
    renew_hint: "Продлите подписку картой:",
    pay_failed: "Не удалось открыть оплату. Попробуйте позже или тем же способом, что и в \
        прошлый раз.",
    method_bank_card: "Банковская карта",
    method_sbp: "СБП",
    method_sberbank: "SberPay",
    method_yoo_money: "ЮMoney",
};

static EN: MeText = MeText {
    login_title: "Sign in with Telegram",
    login_lead: "Sign in with your Telegram account to see your subscription and pay for it by \
        card without the bot. No password: Telegram confirms it is you.",
    login_button: "Sign in with Telegram",
    login_consent: "You can sign in once you have started using the service in our Telegram \
        bot and accepted the privacy policy there. Telegram gives us your ID, name and \
        username: the same data the bot has.",
    login_unavailable: "Signing in with Telegram is not set up on this site. Open our Telegram \
        bot.",
    returning_title: "Signing in…",
    returning_text: "Checking Telegram's answer. If nothing happens, press the button.",
    continue_button: "Continue",
    refused_title: "Sign-in failed",
    refused_text: "Telegram's answer did not pass the check, is too old or was used already. \
        Try signing in again.",
    no_account_title: "The bot first",
    no_account_text: "This Telegram account has no subscription with us yet. Open our Telegram \
        bot, accept the privacy policy and come back: then you can sign in here. We stored \
        nothing.",
    me_title: "My subscription",
    active_until: "Active until",
    days_left: "Days left:",
    plan: "Plan:",
    expired: "Your subscription has ended. Renew it below.",
    none: "No subscription yet. Get one below.",
    blocked: "This account is blocked. Please contact support.",
    sub_link: "Link for your apps",
    sub_link_hint: "Add it to your app or scan the QR code. Do not share it: it connects as \
        you.",
    pay_title: "Pay by card",
    pay_note: "You pay on YooKassa's page. We never see your card details.",
    pay_button: "Pay",
    method: "Payment method:",
    no_card_payments: "Card payments are not available right now. You can pay in the Telegram \
        bot.",
    days: "days",
    sign_out: "Sign out",
    signed_out_title: "Signed out",
    signed_out_text: "Your session on this site has ended.",
    renew_title: "Renew",
    renew_hint: "Renew your subscription by card:",
    pay_failed: "Could not open the payment. Try again later, or with the same method as last \
        time.",
    method_bank_card: "Bank card",
    method_sbp: "SBP (Faster Payments)",
    method_sberbank: "SberPay",
    method_yoo_money: "YooMoney",
};
