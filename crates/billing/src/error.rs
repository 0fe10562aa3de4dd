//! What can go wrong with card payments, in words an operator can act on. No variant carries a
//! person's data, a secret or a response body.

use domain::{PaymentStatus, Provider};

#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    #[error("card payments are off: set [yookassa] enabled, shop_id and secret_key")]
    NotConfigured,
    #[error("cannot reach YooKassa: {0}")]
    Unreachable(String),
    #[error("YooKassa refused the request (HTTP {status}, {code}{})", parameter.as_deref().map(|p| format!(", parameter {p}")).unwrap_or_default())]
    Refused {
        status: u16,
        code: String,
        parameter: Option<String>,
    },
    #[error("YooKassa answered something unexpected: {0}")]
    Unexpected(&'static str),
    #[error("no payment with that id")]
    PaymentNotFound,
    #[error("only succeeded payments can be refunded; this one is {0:?}")]
    NotRefundable(PaymentStatus),
    #[error("{0:?} payments cannot be refunded from here")]
    ProviderNotRefundable(Provider),
    #[error("the payer was erased, so Telegram cannot be told whom to refund")]
    PayerErased,
    #[error("the Telegram bot token is not set ([telegram] token)")]
    NoBotToken,
    #[error("Telegram refused the refund: {0}")]
    TelegramRefused(String),
    #[error(transparent)]
    App(#[from] app::AppError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
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
