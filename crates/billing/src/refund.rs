//! Refunds for the operator: YooKassa payments through `POST /v3/refunds`, Telegram Stars
//! payments through the Bot API's `refundStarPayment`. Either way the payment is then marked
//! refunded; the days it bought are left alone (the operator decides about access).

use app::App;
use domain::{PaymentId, PaymentStatus, Provider};
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;

use crate::wire::{Amount, CreateRefund};
use crate::{amount, BillingError, YooKassa};

/// What a refund did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundOutcome {
    /// YooKassa accepted the refund (`status` is YooKassa's: `succeeded` or `pending`).
    YooKassa { refund_id: String, status: String },
    /// Telegram returned the Stars to the payer.
    Stars,
}

/// Refunds payment `id` in full with its provider and marks it refunded.
pub async fn refund(
    app: &App,
    id: PaymentId,
    now: OffsetDateTime,
) -> Result<RefundOutcome, BillingError> {
    let payment = app
        .store()
        .payment(id)
        .await?
        .ok_or(BillingError::PaymentNotFound)?;
    if payment.status != PaymentStatus::Succeeded {
        return Err(BillingError::NotRefundable(payment.status));
    }
    let provider_id = payment
        .provider_payment_id
        .clone()
        .ok_or(BillingError::Unexpected(
            "a paid payment without the provider's id",
        ))?;
    let outcome = match payment.provider {
        Provider::YooKassa => {
            let client = YooKassa::from_config(&app.config().yookassa)?;
            // What is left: part of it may have been refunded in YooKassa's dashboard.
            let remaining = payment.amount.minor - payment.refunded_minor;
            let request = CreateRefund {
                payment_id: provider_id.clone(),
                amount: Amount {
                    value: amount::to_value(domain::Money {
                        minor: remaining,
                        currency: payment.amount.currency,
                    }),
                    currency: payment.amount.currency.code().to_owned(),
                },
                description: None,
            };
            // One key per payment and remainder: running the command again after a timeout
            // cannot refund twice, it gets the first refund back.
            let key =
                crate::erased_payer::refund_key(&provider_id, remaining, payment.amount.minor);
            let refund = client.refund(&request, &key).await?;
            if !matches!(refund.status.as_str(), "succeeded" | "pending") {
                return Err(BillingError::Unexpected("a refund YooKassa canceled"));
            }
            RefundOutcome::YooKassa {
                refund_id: refund.id,
                status: refund.status,
            }
        }
        Provider::TelegramStars => {
            let user = match payment.user_id {
                Some(u) => app.store().user(u).await?,
                None => None,
            };
            let user = user.ok_or(BillingError::PayerErased)?;
            refund_stars(app, user.telegram_id.0, &provider_id).await?;
            RefundOutcome::Stars
        }
        Provider::Manual => return Err(BillingError::ProviderNotRefundable(payment.provider)),
    };
    app.store()
        .settle_payment(id, PaymentStatus::Refunded, None, now)
        .await?;
    tracing::info!(provider = payment.provider.code(), "payment refunded");
    Ok(outcome)
}

#[derive(Deserialize)]
struct BotAnswer {
    ok: bool,
    #[serde(default)]
    description: Option<String>,
}

/// `refundStarPayment(user_id, telegram_payment_charge_id)`.
async fn refund_stars(app: &App, telegram_user: i64, charge_id: &str) -> Result<(), BillingError> {
    let tg = &app.config().telegram;
    if !tg.token.is_set() {
        return Err(BillingError::NoBotToken);
    }
    let http = reqwest::Client::builder()
        .timeout(crate::API_TIMEOUT)
        .build()
        .map_err(|e| BillingError::Unreachable(e.without_url().to_string()))?;
    let url = format!(
        "{}/bot{}/refundStarPayment",
        tg.api_url.trim_end_matches('/'),
        tg.token.expose()
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
