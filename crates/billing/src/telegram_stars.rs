//! Telegram Stars' one call outside the bot's conversation: `refundStarPayment`, for the
//! operator's refunds. It sits here beside YooKassa because it is the same kind of thing (a
//! payment provider's HTTP API, called on the operator's behalf), so `app` reaches every
//! provider through this crate and never holds an HTTP client of its own.

use async_trait::async_trait;
use domain::{Money, Provider, Secret};
use serde::Deserialize;
use serde_json::json;

use crate::provider::{PaidCharge, PaymentProvider, RefundState, RemoteRefund};
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

/// Telegram Stars as a [`PaymentProvider`]: refunds go back to the payer's Telegram account.
/// (Paying happens in the bot's conversation: `app::stars` and the bot.)
#[derive(Debug, Clone)]
pub struct TelegramStars {
    bot: BotApi,
}

impl TelegramStars {
    pub fn new(bot: BotApi) -> Self {
        Self { bot }
    }
}

#[async_trait]
impl PaymentProvider for TelegramStars {
    fn provider(&self) -> Provider {
        Provider::TelegramStars
    }

    /// Stars come back whole or not at all: Telegram has no partial refunds, and refusing a
    /// second refund of the same charge is what makes a retry safe (the key is not needed).
    async fn refund(
        &self,
        charge: PaidCharge<'_>,
        amount: Money,
        _key: &str,
    ) -> Result<RemoteRefund, BillingError> {
        if amount != charge.paid {
            return Err(BillingError::Unexpected("a part of a Stars payment"));
        }
        let payer = charge.payer.ok_or(BillingError::NoPayer)?;
        refund_star_payment(&self.bot, payer.0, charge.provider_payment_id).await?;
        Ok(RemoteRefund {
            id: None,
            state: RefundState::Succeeded,
            payment_id: charge.provider_payment_id.to_owned(),
        })
    }
}
