//! The credentials of the services milly calls: the bot's token (`getMe`) and YooKassa's
//! shop id and secret key (`GET /v3/me`). Neither is printed.

use super::Finding;

pub async fn bot_token(c: &config::Config) -> Finding {
    const CHECK: &str = "bot token";
    if !c.telegram.token.is_set() {
        return Finding::skipped(CHECK, "no [telegram] token: the bot is off");
    }
    match bot::username(&crate::settings::bot(c)).await {
        Ok(name) => Finding::ok(
            CHECK,
            format!(
                "getMe answers: @{}",
                name.unwrap_or_else(|| "(no username)".into())
            ),
        ),
        Err(e) => Finding::fail(
            CHECK,
            format!(
                "getMe at {} failed: {e}; copy the token @BotFather gave into [telegram] token",
                c.telegram.api_url
            ),
        ),
    }
}

pub async fn yookassa(c: &config::Config) -> Finding {
    const CHECK: &str = "yookassa";
    let settings = crate::settings::app(c).yookassa;
    if !settings.enabled {
        return Finding::skipped(CHECK, "card payments are off ([yookassa] enabled)");
    }
    let client = match billing::YooKassa::new(&settings) {
        Ok(client) => client,
        Err(e) => return Finding::fail(CHECK, e.to_string()),
    };
    match client.me().await {
        Ok(shop) if shop.status == "disabled" => Finding::fail(
            CHECK,
            format!(
                "shop {} is disabled in YooKassa; finish the shop's activation in its dashboard",
                shop.account_id
            ),
        ),
        Ok(shop) => Finding::ok(
            CHECK,
            format!(
                "shop {} accepts these credentials{}",
                shop.account_id,
                if shop.test {
                    " (a test shop: no money moves)"
                } else {
                    ""
                }
            ),
        ),
        Err(billing::BillingError::Refused { status: 401, .. }) => Finding::fail(
            CHECK,
            "YooKassa refused [yookassa] shop_id and secret_key (HTTP 401); copy both from \
             the shop's settings (Integration → API keys)",
        ),
        Err(e) => Finding::fail(
            CHECK,
            format!("{e}; check [yookassa] api_url and the network"),
        ),
    }
}
