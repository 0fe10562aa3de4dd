//! Telegram Stars' one call outside the bot's conversation: `refundStarPayment`, for the
//! operator's refunds. It sits here beside YooKassa because it is the same kind of thing (a
//! payment provider's HTTP API, called on the operator's behalf), so `app` reaches every
//! provider through this crate and never holds an HTTP client of its own.

use domain::Secret;
use serde::Deserialize;
use serde_json::json;

use crate::{BillingError, API_TIMEOUT};

/// The bot the operator's refunds go through (`[telegram]`'s token and API server).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BotApi {
    /// `https://api.telegram.org`, a local Bot API server, or an emulator in tests.
    pub api_url: String,
    pub token: Secret,
}

#[derive(Deserialize)]
struct BotAnswer {
    ok: bool,
    #[serde(default)]
    description: Option<String>,
}

/// `refundStarPayment(user_id, telegram_payment_charge_id)` with the operator's bot.
pub async fn refund_star_payment(
    telegram: &BotApi,
    telegram_user: i64,
    charge_id: &str,
) -> Result<(), BillingError> {
    if !telegram.token.is_set() {
        return Err(BillingError::NoBotToken);
    }
    let http = reqwest::Client::builder()
        .timeout(API_TIMEOUT)
        .build()
        .map_err(|e| BillingError::Unreachable(e.without_url().to_string()))?;
    let url = format!(
        "{}/bot{}/refundStarPayment",
        telegram.api_url.trim_end_matches('/'),
        telegram.token.expose()
    );
    let response = http
        .post(url)
        .json(&json!({"user_id": telegram_user, "telegram_payment_charge_id": charge_id}))
        .send()
        .await
        // The URL holds the bot token: never let it into an error message.
        .map_err(|e| BillingError::Unreachable(e.without_url().to_string()))?;
    let answer: BotAnswer = response
        .json()
        .await
        .map_err(|_| BillingError::Unexpected("a Bot API answer that is not JSON"))?;
    if answer.ok {
        Ok(())
    } else {
        Err(BillingError::TelegramRefused(
            answer
                .description
                .unwrap_or_else(|| "no description".into()),
        ))
    }
}
