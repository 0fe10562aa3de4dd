//! The sentences of the card payment pages. These pages are reached from the Telegram bot in
//! whatever language the person uses there, so each says everything in Russian and English at
//! once, inside the site's frame.

/// One page's title and its paragraph in both languages.
pub struct PaySays {
    pub title: &'static str,
    pub ru: &'static str,
    pub en: &'static str,
}

pub const CHECKOUT: PaySays = PaySays {
    title: "Оплата картой · Pay by card",
    ru: "Оплата на странице ЮKassa. Данные карты мы не получаем.",
    en: "You pay on YooKassa's page. We never see your card details.",
};

/// The checkout page's button.
pub const PAY_BUTTON: &str = "Оплатить картой · Pay with card";

/// The checkout page's auto-renewal choice: unticked unless the person ticks it.
pub const AUTO_RENEW_CHOICE: AutoRenewChoice = AutoRenewChoice {
    label: "Продлевать автоматически · Renew automatically",
    ru: "ЮKassa сохранит способ оплаты (у нас хранится только его номер в ЮKassa, без данных \
         карты), и за день до окончания подписки мы спишем ту же сумму за тот же тариф, \
         предупредив заранее. Отключается одной кнопкой в боте или на странице аккаунта.",
    en: "YooKassa saves the payment method (we keep only its id at YooKassa, no card data), and \
         a day before your subscription ends we charge the same amount for the same plan, \
         after a reminder. Switch it off with one button in the bot or on your account page.",
};

/// The words around the auto-renewal checkbox.
pub struct AutoRenewChoice {
    pub label: &'static str,
    pub ru: &'static str,
    pub en: &'static str,
}

/// What an old `?payment=NUMBER` return link (or one without a token) shows.
pub const RETURN_NEUTRAL: PaySays = PaySays {
    title: "Статус оплаты · Payment status",
    ru: "Статус оплаты показан в Telegram-боте.",
    en: "Your payment's status is shown in the Telegram bot.",
};

pub const SUCCEEDED: PaySays = PaySays {
    title: "Оплачено · Paid",
    ru: "Оплата получена, подписка продлена. Вернитесь в Telegram-бот.",
    en: "Payment received and your subscription extended. Return to the Telegram bot.",
};

pub const PENDING: PaySays = PaySays {
    title: "Ожидаем оплату · Waiting for payment",
    ru: "Платёж ещё не завершён. Обновите страницу через минуту.",
    en: "The payment is not complete yet. Reload this page in a minute.",
};

pub const CANCELED: PaySays = PaySays {
    title: "Платёж отменён · Payment canceled",
    ru: "Деньги не списаны. Можно попробовать снова из бота.",
    en: "No money was taken. You can try again from the bot.",
};

pub const REFUNDED: PaySays = PaySays {
    title: "Возврат · Refunded",
    ru: "Платёж возвращён.",
    en: "This payment was refunded.",
};

pub const NOT_FOUND: PaySays = PaySays {
    title: "Не найдено · Not found",
    ru: "Такого платежа нет.",
    en: "There is no such payment.",
};

pub const UNAVAILABLE: PaySays = PaySays {
    title: "Оплата недоступна · Payments unavailable",
    ru: "Платёжная система не отвечает. Попробуйте позже.",
    en: "The payment provider is not answering. Please try again later.",
};

pub const REFUSED: PaySays = PaySays {
    title: "Ссылка недействительна · Link not valid",
    ru: "Откройте оплату заново из Telegram-бота.",
    en: "Open the payment again from the Telegram bot.",
};

pub const NOT_OFFERED: PaySays = PaySays {
    title: "Тариф недоступен · Plan not available",
    ru: "Этот тариф нельзя оплатить картой.",
    en: "This plan cannot be paid by card.",
};
