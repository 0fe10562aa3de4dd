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

/// The checkout page of a plan bought as a gift.
pub const CHECKOUT_GIFT: PaySays = PaySays {
    title: "Подарок: оплата картой · A gift: pay by card",
    ru: "Вы покупаете тариф в подарок: после оплаты бот пришлёт код, который можно передать \
        кому угодно. Оплата на странице ЮKassa. Данные карты мы не получаем.",
    en: "You are buying this plan as a gift: once paid, the bot sends you a code to hand to \
        anyone. You pay on YooKassa's page. We never see your card details.",
};

/// A paid gift's return page.
pub const GIFT_SUCCEEDED: PaySays = PaySays {
    title: "Подарок оплачен · Gift paid",
    ru: "Оплата получена. Код подарка — в Telegram-боте; его можно передать кому угодно.",
    en: "Payment received. The gift's code is in the Telegram bot; hand it to anyone.",
};

/// The checkout page's button.
pub const PAY_BUTTON: &str = "Оплатить картой · Pay with card";

/// The checkout page's auto-renewal choice: unticked unless the person ticks it.
pub const AUTO_RENEW_CHOICE: AutoRenewChoice = AutoRenewChoice {
    label: "Продлевать автоматически · Renew automatically",
    ru: "Только при оплате картой. ЮKassa сохранит карту (у нас хранится только её номер в \
         ЮKassa, без данных карты), и за день до окончания подписки мы спишем полную цену того \
         же тарифа (промокод действует только на эту первую оплату), предупредив заранее. \
         Отключается одной кнопкой в боте или на странице аккаунта.",
    en: "Card payments only. YooKassa saves the card (we keep only its id at YooKassa, no card \
         data), and a day before your subscription ends we charge the same plan's full price \
         (a promo code discounts only this first payment), after a reminder. Switch it off \
         with one button in the bot or on your account page.",
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
    ru: "Оплата получена, подписка продлена. Эту страницу можно закрыть: новый срок уже виден \
         в Telegram-боте и в личном кабинете на сайте.",
    en: "Payment received and your subscription extended. You can close this page: the new \
         end date is already in the Telegram bot and in your account on this website.",
};

pub const PENDING: PaySays = PaySays {
    title: "Ожидаем оплату · Waiting for payment",
    ru: "Платёж ещё не завершён. Обновите страницу через минуту.",
    en: "The payment is not complete yet. Reload this page in a minute.",
};

pub const CANCELED: PaySays = PaySays {
    title: "Платёж отменён · Payment canceled",
    ru: "Деньги не списаны. Можно попробовать снова — из бота или из личного кабинета на сайте.",
    en: "No money was taken. You can try again, from the bot or from your account on this \
         website.",
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

/// The checkout page's promo code field and its button.
pub const PROMO_LABEL: &str = "Промокод · Promo code";
pub const PROMO_APPLY: &str = "Применить · Apply";

/// What the checkout page says about the promo code entered.
pub fn promo_note(refusal: Option<domain::PromoRefusal>) -> (&'static str, &'static str) {
    use domain::PromoRefusal::*;
    match refusal {
        None => (
            "Промокод применён: цена со скидкой.",
            "Promo code applied: the discounted price.",
        ),
        Some(Unknown) => ("Такого промокода нет.", "There is no such promo code."),
        Some(Disabled) => ("Этот промокод отключён.", "This promo code is disabled."),
        Some(Expired) => ("Срок промокода истёк.", "This promo code has expired."),
        Some(UsedUp) => (
            "Промокод уже использован максимальное число раз.",
            "This promo code has been used up.",
        ),
        Some(AlreadyUsed) => (
            "Вы уже использовали этот промокод.",
            "You have used this promo code already.",
        ),
        Some(WrongPlan) => (
            "Этот промокод действует для другого тарифа.",
            "This promo code is for another plan.",
        ),
        Some(NotApplicable) => (
            "Этот промокод даёт бесплатные дни: введите его в Telegram-боте командой /promo.",
            "This promo code gives free days: enter it in the Telegram bot with /promo.",
        ),
    }
}
