//! Starting a card payment: store it as pending, create it at YooKassa, record YooKassa's id,
//! hand back the page where the person pays.

use app::{CardCheckout, CardRefusal};
use domain::SubscriptionToken;
use time::OffsetDateTime;

use crate::client::new_idempotence_key;
use crate::wire::{
    Amount, CreatePayment, Customer, Metadata, Receipt, ReceiptItem, RedirectConfirmation,
};
use crate::{amount, Billing, BillingError};

/// YooKassa's limit on `description` and a receipt item's description.
const DESCRIPTION_MAX_CHARS: usize = 128;

/// Why no payment page could be given.
#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error("refused: {0:?}")]
    Refused(CardRefusal),
    #[error("receipts are on, but neither the person nor [yookassa] receipt_email has an email")]
    NoReceiptEmail,
    #[error(transparent)]
    Billing(#[from] BillingError),
}

impl From<app::AppError> for CheckoutError {
    fn from(e: app::AppError) -> Self {
        CheckoutError::Billing(e.into())
    }
}

impl Billing {
    /// Opens a card payment of `plan` for the owner of `token` and returns YooKassa's
    /// confirmation URL to redirect them to.
    pub async fn start_checkout(
        &self,
        token: &SubscriptionToken,
        plan: &str,
        now: OffsetDateTime,
    ) -> Result<String, CheckoutError> {
        let checkout = self
            .app
            .open_card_payment(token, plan, now)
            .await?
            .map_err(CheckoutError::Refused)?;
        let request = match self.create_request(&checkout) {
            Ok(r) => r,
            Err(e) => {
                self.give_up(&checkout, now).await;
                return Err(e);
            }
        };
        let key = new_idempotence_key();
        let mut created = self.yookassa.create_payment(&request, &key).await;
        if created.as_ref().is_err_and(BillingError::is_transient) {
            // Same key: if the first attempt did reach YooKassa, this returns that payment.
            created = self.yookassa.create_payment(&request, &key).await;
        }
        let created = match created {
            Ok(c) => c,
            Err(e) => {
                self.give_up(&checkout, now).await;
                return Err(e.into());
            }
        };
        let url = created
            .confirmation
            .as_ref()
            .and_then(|c| c.confirmation_url.clone())
            .filter(|u| u.starts_with("https://") || u.starts_with("http://"));
        let recorded = self
            .app
            .record_card_provider_id(checkout.payment.id, &created.id)
            .await?;
        if !recorded {
            // Canceled meanwhile: sending the person to pay it would take money we won't credit.
            return Err(BillingError::Unexpected("a payment that stopped being pending").into());
        }
        url.ok_or(CheckoutError::Billing(BillingError::Unexpected(
            "a payment without a redirect confirmation URL",
        )))
    }

    /// The payment never reached a payment page, so nobody can pay it: cancel it now rather
    /// than leave it for the reconciler.
    async fn give_up(&self, checkout: &CardCheckout, now: OffsetDateTime) {
        if let Err(e) = self
            .app
            .cancel_uncreated_card_payment(checkout.payment.id, now)
            .await
        {
            tracing::warn!(error = %e, "could not cancel a card payment YooKassa did not create");
        }
    }

    fn create_request(&self, checkout: &CardCheckout) -> Result<CreatePayment, CheckoutError> {
        let config = self.app.config();
        let value = Amount {
            value: amount::to_value(checkout.payment.amount),
            currency: checkout.payment.amount.currency.code().to_owned(),
        };
        let description = truncate(&format!(
            "{}: {} ({} days)",
            config.service.name, checkout.plan.id, checkout.plan.days.0
        ));
        let receipt = if config.yookassa.receipts {
            let email = checkout
                .receipt_email
                .clone()
                .ok_or(CheckoutError::NoReceiptEmail)?;
            Some(Receipt {
                customer: Customer { email },
                items: vec![ReceiptItem {
                    description: description.clone(),
                    quantity: "1.00",
                    amount: value.clone(),
                    vat_code: 1,
                    payment_mode: "full_payment",
                    payment_subject: "service",
                }],
            })
        } else {
            None
        };
        Ok(CreatePayment {
            amount: value,
            capture: true,
            confirmation: RedirectConfirmation {
                kind: "redirect",
                return_url: return_url(&config.service.public_url, checkout.payment.id.0),
            },
            description,
            metadata: Metadata {
                payment_id: checkout.payment.id.0.to_string(),
            },
            receipt,
        })
    }
}

/// `{public_url}/pay/return?payment={id}`.
pub fn return_url(public_url: &str, payment: i64) -> String {
    format!(
        "{}/pay/return?payment={payment}",
        public_url.trim_end_matches('/')
    )
}

fn truncate(s: &str) -> String {
    s.chars().take(DESCRIPTION_MAX_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_return_url_names_our_payment() {
        assert_eq!(
            return_url("https://vpn.example/", 42),
            "https://vpn.example/pay/return?payment=42"
        );
    }

    #[test]
    fn descriptions_fit_yookassas_limit() {
        assert_eq!(truncate(&"я".repeat(300)).chars().count(), 128);
        assert_eq!(truncate("month"), "month");
    }
}
