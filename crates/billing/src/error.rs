//! What can go wrong talking to a payment provider, in words an operator can act on. No variant
//! carries a person's data, a secret or a response body.

#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    #[error("card payments are off: set [yookassa] enabled, shop_id and secret_key")]
    NotConfigured,
    #[error("cannot reach the payment provider: {0}")]
    Unreachable(String),
    #[error("YooKassa refused the request (HTTP {status}, {code}{})", parameter.as_deref().map(|p| format!(", parameter {p}")).unwrap_or_default())]
    Refused {
        status: u16,
        code: String,
        parameter: Option<String>,
    },
    #[error("the payment provider answered something unexpected: {0}")]
    Unexpected(&'static str),
    #[error("the Telegram bot token is not set ([telegram] token)")]
    NoBotToken,
    #[error("the payer's Telegram account is gone (erased), so Stars cannot be returned to it")]
    NoPayer,
    #[error("Telegram refused the refund: {0}")]
    TelegramRefused(String),
}

impl BillingError {
    /// Whether trying again later may work (network trouble, YooKassa's 5xx or 429).
    pub fn is_transient(&self) -> bool {
        match self {
            BillingError::Unreachable(_) => true,
            BillingError::Refused { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }
}
