//! "Manage my data on the website": the bot asks the app for a short-lived account link and
//! sends it to the person alone, without a link preview (so Telegram does not fetch the page).
//! The link is the website's only key to download, email change and deletion; asking again
//! replaces it.

use domain::{Language, User, ACCOUNT_LINK_LIFETIME_MINUTES};
use teloxide_core::payloads::SendMessageSetters as _;
use teloxide_core::requests::Requester as _;
use teloxide_core::types::{
    ChatId, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, ParseMode,
};

use crate::callback::Action;
use crate::ctx::Ctx;
use crate::texts::{escape, texts};
use crate::BotError;

/// Issues a new link for `user` and sends it as a message of its own.
pub async fn give(ctx: &Ctx, user: &User, chat: i64) -> Result<(), BotError> {
    let link = ctx.app.issue_account_link(user.id, ctx.now()).await?;
    tracing::info!("an account link was issued");
    // The page opens in the language the person speaks with the bot.
    let url = format!("{}?lang={}", link.url, user.language.code());
    let back =
        InlineKeyboardButton::callback(texts(user.language).btn_back, Action::Privacy.encode());
    let request = ctx
        .tg
        .bot()
        .send_message(ChatId(chat), text(user.language, &url))
        .parse_mode(ParseMode::Html)
        .link_preview_options(no_link_preview())
        .reply_markup(InlineKeyboardMarkup::new([vec![back]]));
    let sent = ctx.tg.call(request).await;
    ctx.delivered(Some(user.id), sent).await?;
    Ok(())
}

fn text(language: Language, url: &str) -> String {
    let url = escape(url);
    let minutes = ACCOUNT_LINK_LIFETIME_MINUTES;
    match language {
        Language::Ru => format!(
            "🌐 <b>Ваши данные на сайте</b>\n\nПо этой ссылке можно скачать свои данные, изменить \
             email или удалить аккаунт. Она действует {minutes} минут и только для вас — не \
             пересылайте её. Новая ссылка отменяет прежнюю.\n\n\
             <a href=\"{url}\">Открыть страницу моих данных</a>"
        ),
        Language::En => format!(
            "🌐 <b>Your data on the website</b>\n\nThis link lets you download your data, change \
             your email or delete your account. It works for {minutes} minutes and only for you: \
             do not forward it. A new link cancels the previous one.\n\n\
             <a href=\"{url}\">Open my data page</a>"
        ),
    }
}

/// No preview under a message carrying a one-time link: fetching it for a preview is a visit
/// Telegram's servers would make with the person's secret.
pub(crate) fn no_link_preview() -> LinkPreviewOptions {
    LinkPreviewOptions {
        is_disabled: true,
        url: None,
        prefer_small_media: false,
        prefer_large_media: false,
        show_above_text: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_links_the_page_and_says_how_long_it_works() {
        for language in Language::ALL {
            let text = text(language, "https://vpn.example/account/a&b");
            assert!(
                text.contains("href=\"https://vpn.example/account/a&amp;b\""),
                "{text}"
            );
            assert!(
                text.contains(&format!("{ACCOUNT_LINK_LIFETIME_MINUTES} ")),
                "{text}"
            );
        }
    }
}
