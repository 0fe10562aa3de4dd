//! `/admin`: the admin commands' help, and a one-time login link to the admin web panel, sent
//! to the admin's private chat without a link preview (so Telegram does not open the page).

use domain::{TelegramId, ADMIN_LOGIN_LIFETIME_MINUTES};
use teloxide_core::payloads::SendMessageSetters as _;
use teloxide_core::requests::Requester as _;
use teloxide_core::types::{ChatId, ParseMode};

use crate::ctx::Ctx;
use crate::texts::escape;
use crate::BotError;

/// Issues a login link for `admin` and sends it, after `help`, to `chat` (their private chat).
pub async fn give(ctx: &Ctx, admin: TelegramId, chat: i64, help: &str) -> Result<(), BotError> {
    let link = ctx.app.issue_admin_login(admin, ctx.now()).await?;
    tracing::info!("an admin panel login link was issued");
    let request = ctx
        .tg
        .bot()
        .send_message(ChatId(chat), text(help, &link.url))
        .parse_mode(ParseMode::Html)
        .link_preview_options(crate::account_link::no_link_preview());
    let sent = ctx.tg.call(request).await;
    ctx.delivered(None, sent).await?;
    Ok(())
}

fn text(help: &str, url: &str) -> String {
    let url = escape(url);
    format!(
        "{help}\n\n<b>Web panel</b>: <a href=\"{url}\">sign in</a> (works once, for \
         {ADMIN_LOGIN_LIFETIME_MINUTES} minutes; do not forward it)."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_links_the_panel_and_says_how_long_the_link_works() {
        let text = text("help", "https://vpn.example/admin/login?t=a&b");
        assert!(
            text.contains("href=\"https://vpn.example/admin/login?t=a&amp;b\""),
            "{text}"
        );
        assert!(text.contains("10 minutes"), "{text}");
    }
}
