//! The sentences of the person's own data controls (download, email, deletion) in Russian and
//! English, and of the ways to them: the subscription page's pointer to the bot, the page for
//! an expired account link, and the answer of the old `/sub/{token}/…` addresses.

use domain::Language;

/// One language's strings for the data controls. A field missing in one language is a compile
/// error.
pub struct AccountText {
    pub data_title: &'static str,
    pub data_lead: &'static str,
    pub export_button: &'static str,
    pub export_hint: &'static str,
    pub email_title: &'static str,
    pub email_current: &'static str,
    pub email_none: &'static str,
    pub email_label: &'static str,
    pub email_save: &'static str,
    pub email_remove: &'static str,
    pub email_blocked: &'static str,
    pub email_saved: &'static str,
    pub email_removed: &'static str,
    pub email_invalid: &'static str,
    pub renew_title: &'static str,
    /// Before the plan's name: auto-renewal is on.
    pub renew_on: &'static str,
    pub renew_off_button: &'static str,
    pub renew_none: &'static str,
    pub renew_switched_off: &'static str,
    pub delete_title: &'static str,
    pub delete_link: &'static str,
    pub delete_warning: &'static str,
    pub delete_confirm: &'static str,
    pub delete_button: &'static str,
    pub delete_unchecked: &'static str,
    pub back: &'static str,
    pub deleted_title: &'static str,
    pub deleted_text: &'static str,
    pub withdraw_note: &'static str,
    /// On the account page: where the link came from and how long it lasts.
    pub link_note: &'static str,
    /// On the subscription page: how to reach the data controls.
    pub sub_hint: &'static str,
    pub expired_title: &'static str,
    pub expired_text: &'static str,
    pub moved_title: &'static str,
    pub moved_text: &'static str,
}

impl AccountText {
    pub fn get(lang: Language) -> &'static AccountText {
        match lang {
            Language::Ru => &RU,
            Language::En => &EN,
        }
    }
}

static RU: AccountText = AccountText {
    data_title: "Ваши данные",
    data_lead: "Вы можете получить копию всего, что о вас хранится, исправить email или удалить \
        аккаунт — здесь или прямо в нашем Telegram-боте.",
    export_button: "Скачать мои данные",
    export_hint: "Файл JSON со всем, что о вас хранится: профиль, согласие, подписки, платежи и \
        обращения в поддержку.",
    email_title: "Email",
    email_current: "Указан email:",
    email_none: "Email не указан.",
    email_label: "Новый email",
    email_save: "Сохранить",
    email_remove: "Удалить email",
    email_blocked: "Пока доступ приостановлен, email изменить нельзя. Скачать свои данные и \
        удалить аккаунт можно.",
    email_saved: "Email сохранён.",
    email_removed: "Email удалён.",
    email_invalid: "Это не похоже на адрес email. Проверьте его и попробуйте ещё раз.",
    renew_title: "Автопродление",
    renew_on: "Включено: за день до окончания подписки спишем оплату тарифа с сохранённой в ЮKassa карты. Тариф:",
    renew_off_button: "Отключить автопродление",
    renew_none: "Выключено. Включить его можно при оплате картой.",
    renew_switched_off: "Автопродление отключено, сохранённый способ оплаты удалён.",
    delete_title: "Удаление аккаунта",
    delete_link: "Удалить аккаунт",
    delete_warning: "Доступ к VPN сразу прекратится на всех серверах, а ваши данные будут стёрты \
        без возможности восстановления. Записи о платежах, которые закон требует хранить, \
        останутся без связи с вами.",
    delete_confirm: "Я понимаю, что аккаунт и мои данные будут удалены навсегда",
    delete_button: "Удалить навсегда",
    delete_unchecked: "Поставьте отметку, чтобы подтвердить удаление.",
    back: "Вернуться к моим данным",
    deleted_title: "Аккаунт удалён",
    deleted_text: "Ваш аккаунт и данные удалены, ссылка подписки больше не работает. Удалите \
        подписку из приложения.",
    withdraw_note: "Отозвать согласие на обработку данных — значит удалить аккаунт: для этого \
        та же кнопка ниже.",
    link_note: "Эту страницу открывает ссылка из бота; она действует 15 минут, и работает только \
        последняя выданная. Новую можно получить в боте в любой момент.",
    sub_hint: "Скачать свои данные, изменить email или удалить аккаунт можно по ссылке из бота: \
        «Приватность и мои данные» → «Управлять данными на сайте». Ссылка подписки открывает \
        только подписку, поэтому ею можно делиться с приложениями.",
    expired_title: "Ссылка больше не действует",
    expired_text: "Ссылка на страницу ваших данных действует 15 минут, и работает только \
        последняя выданная. Попросите в боте новую: «Приватность и мои данные» → «Управлять \
        данными на сайте».",
    moved_title: "Управление данными — по ссылке из бота",
    moved_text: "Ссылка подписки открывает только подписку. Чтобы скачать свои данные, изменить \
        email или удалить аккаунт, попросите в боте ссылку: «Приватность и мои данные» → \
        «Управлять данными на сайте».",
};

static EN: AccountText = AccountText {
    data_title: "Your data",
    data_lead: "You can get a copy of everything stored about you, correct your email or delete \
        your account — here or in our Telegram bot.",
    export_button: "Download my data",
    export_hint: "A JSON file with everything stored about you: profile, consent, \
        subscriptions, payments and support messages.",
    email_title: "Email",
    email_current: "Your email:",
    email_none: "No email is set.",
    email_label: "New email",
    email_save: "Save",
    email_remove: "Remove email",
    email_blocked: "While access is suspended the email cannot be changed. You can still \
        download your data and delete your account.",
    email_saved: "Email saved.",
    email_removed: "Email removed.",
    email_invalid: "That does not look like an email address. Please check it and try again.",
    renew_title: "Auto-renewal",
    renew_on: "On: a day before your subscription ends we charge the plan to the card saved at YooKassa. Plan:",
    renew_off_button: "Switch auto-renewal off",
    renew_none: "Off. You can switch it on when paying by card.",
    renew_switched_off: "Auto-renewal is off and the saved payment method is deleted.",
    delete_title: "Deleting your account",
    delete_link: "Delete my account",
    delete_warning: "Access to the VPN ends at once on every server, and your data is erased for \
        good. Payment records the law requires us to keep stay, with nothing linking them to you.",
    delete_confirm: "I understand that my account and my data will be erased for good",
    delete_button: "Delete for good",
    delete_unchecked: "Tick the box to confirm the deletion.",
    back: "Back to my data",
    deleted_title: "Account deleted",
    deleted_text: "Your account and data are erased and the subscription link no longer works. \
        Remove the subscription from your app.",
    withdraw_note: "Withdrawing your consent to the processing of your data means deleting the \
        account: use the same button below.",
    link_note: "This page opens from a link the bot gave you; it works for 15 minutes, and only \
        the newest one works. Ask the bot for a new one whenever you need it.",
    sub_hint: "To download your data, change your email or delete your account, ask the bot for \
        a link: Privacy & my data → Manage my data on the website. The subscription link opens \
        only the subscription, so it is safe to give to your apps.",
    expired_title: "This link no longer works",
    expired_text: "A link to your data page works for 15 minutes, and only the newest one works. \
        Ask the bot for a new one: Privacy & my data → Manage my data on the website.",
    moved_title: "Your data is managed through a link from the bot",
    moved_text: "The subscription link opens only the subscription. To download your data, \
        change your email or delete your account, ask the bot for a link: Privacy & my data → \
        Manage my data on the website.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_texts_name_the_real_link_lifetime() {
        let minutes = domain::ACCOUNT_LINK_LIFETIME_MINUTES.to_string();
        for t in [&RU, &EN] {
            assert!(t.link_note.contains(&minutes), "{}", t.link_note);
            assert!(t.expired_text.contains(&minutes), "{}", t.expired_text);
        }
    }
}
