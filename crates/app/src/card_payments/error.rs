//! What can go wrong in a card payment or a refund, in words an operator can act on. No variant
//! carries a person's data, a secret or a response body.

use billing::BillingError;
use domain::{PaymentStatus, Provider};

use super::CardRefusal;
use crate::AppError;

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error("no payment with that id")]
    PaymentNotFound,
    #[error("only succeeded payments can be refunded; this one is {0:?}")]
    NotRefundable(PaymentStatus),
    #[error("{0:?} payments cannot be refunded from here")]
    ProviderNotRefundable(Provider),
    #[error("the payer was erased, so Telegram cannot be told whom to refund")]
    PayerErased,
    /// What the provider reported does not fit what we hold.
    #[error("the payment provider reported {0}")]
    Unexpected(&'static str),
    #[error(transparent)]
    Provider(#[from] BillingError),
    #[error(transparent)]
    App(#[from] AppError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

impl PaymentError {
    /// Whether trying again later may work (network trouble, YooKassa's 5xx or 429).
    pub fn is_transient(&self) -> bool {
        matches!(self, PaymentError::Provider(e) if e.is_transient())
    }
}

/// Why no payment page could be given.
#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error("refused: {0:?}")]
    Refused(CardRefusal),
    #[error("receipts are on, but neither the person nor [yookassa] receipt_email has an email")]
    NoReceiptEmail,
    #[error(transparent)]
    Payment(#[from] PaymentError),
}

impl From<AppError> for CheckoutError {
    fn from(e: AppError) -> Self {
        CheckoutError::Payment(e.into())
    }
}

impl From<BillingError> for CheckoutError {
    fn from(e: BillingError) -> Self {
        CheckoutError::Payment(e.into())
    }
}

impl From<store::StoreError> for CheckoutError {
    fn from(e: store::StoreError) -> Self {
        CheckoutError::Payment(e.into())
    }
}
