//! YooKassa as a [`RedirectProvider`]: the neutral requests turned into API v3's JSON, and its
//! answers back into [`RemotePayment`] and [`RemoteRefund`]. YooKassa's own rules live here:
//! amounts as `"199.00"` strings, a 128-character description, the 54-FZ receipt's one
//! service line, `payment_method_data`, `save_payment_method`, `payment_method_id`.

use async_trait::async_trait;
use domain::{Money, PaymentId, Provider};

use crate::provider::{
    Incoming, PaidCharge, PayWith, PaymentProvider, PaymentRequest, RedirectProvider, RefundState,
    Refunded, RemotePayment, RemoteRefund, RemoteState, SavedMethod,
};
use crate::wire::{
    Amount, CreateAutopayment, CreatePayment, CreateRefund, Customer, Metadata, PaymentMethodData,
    PaymentObject, Receipt, ReceiptItem, RedirectConfirmation, RefundObject,
};
use crate::{amount, BillingError, Notice, Refused, YooKassa};

/// YooKassa's limit on `description` and a receipt item's description.
const DESCRIPTION_MAX_CHARS: usize = 128;

#[async_trait]
impl PaymentProvider for YooKassa {
    fn provider(&self) -> Provider {
        Provider::YooKassa
    }

    async fn refund(
        &self,
        charge: PaidCharge<'_>,
        amount: Money,
        key: &str,
    ) -> Result<RemoteRefund, BillingError> {
        let request = CreateRefund {
            payment_id: charge.provider_payment_id.to_owned(),
            amount: wire_amount(amount),
            description: None,
        };
        Ok(remote_refund(self.create_refund(&request, key).await?))
    }
}

#[async_trait]
impl RedirectProvider for YooKassa {
    async fn create(
        &self,
        request: &PaymentRequest,
        key: &str,
    ) -> Result<RemotePayment, BillingError> {
        let value = wire_amount(request.amount);
        let description = truncate(&request.description);
        let receipt = request
            .receipt_email
            .clone()
            .map(|email| receipt(&description, &value, email));
        let metadata = Metadata {
            payment_id: request.payment.0.to_string(),
            gift: request.gift.then(|| "1".to_owned()),
        };
        let created = match &request.pay_with {
            PayWith::Page {
                return_url,
                method,
                save_method,
            } => {
                let body = CreatePayment {
                    amount: value,
                    capture: true,
                    confirmation: RedirectConfirmation {
                        kind: "redirect",
                        return_url: return_url.clone(),
                    },
                    description,
                    metadata,
                    receipt,
                    payment_method_data: method.map(|m| PaymentMethodData { kind: m.code() }),
                    save_payment_method: save_method.then_some(true),
                };
                self.create_payment(&body, key).await?
            }
            PayWith::Saved(method) => {
                let body = CreateAutopayment {
                    amount: value,
                    capture: true,
                    payment_method_id: method.as_str().to_owned(),
                    description,
                    metadata,
                    receipt,
                };
                self.create_autopayment(&body, key).await?
            }
        };
        Ok(remote_payment(created))
    }

    async fn payment(&self, id: &str) -> Result<Option<RemotePayment>, BillingError> {
        Ok(self.payment_object(id).await?.map(remote_payment))
    }

    async fn refund_status(&self, id: &str) -> Result<Option<RemoteRefund>, BillingError> {
        Ok(self.refund_object(id).await?.map(remote_refund))
    }

    fn receive(&self, incoming: Incoming<'_>) -> Result<Notice, Refused> {
        self.source()
            .receive(incoming.peer, incoming.headers, incoming.body)
    }
}

fn wire_amount(money: Money) -> Amount {
    Amount {
        value: amount::to_value(money),
        currency: money.currency.code().to_owned(),
    }
}

fn remote_payment(object: PaymentObject) -> RemotePayment {
    let state = match object.status.as_str() {
        "succeeded" if object.paid => RemoteState::Succeeded,
        "canceled" => RemoteState::Canceled {
            permission_revoked: object.permission_revoked(),
        },
        // pending, waiting_for_capture (never asked for: capture is on), or anything new.
        _ => RemoteState::Pending,
    };
    let refunded = match &object.refunded_amount {
        None => Refunded::Nothing,
        Some(a) => match amount::from_value(&a.value, &a.currency) {
            Some(total) => Refunded::Total(total),
            None => Refunded::Unreadable,
        },
    };
    RemotePayment {
        amount: amount::from_value(&object.amount.value, &object.amount.currency),
        pay_url: object
            .confirmation
            .as_ref()
            .and_then(|c| c.confirmation_url.clone())
            .filter(|u| u.starts_with("https://") || u.starts_with("http://")),
        our_payment: object.our_payment_id().map(PaymentId),
        saved_method: object.saved_method_id().map(SavedMethod::new),
        refunded,
        state,
        id: object.id,
    }
}

fn remote_refund(object: RefundObject) -> RemoteRefund {
    RemoteRefund {
        id: Some(object.id),
        state: match object.status.as_str() {
            "succeeded" => RefundState::Succeeded,
            "canceled" => RefundState::Canceled,
            _ => RefundState::Pending,
        },
        payment_id: object.payment_id,
    }
}

/// A 54-FZ receipt: one service line for the whole amount.
fn receipt(description: &str, value: &Amount, email: String) -> Receipt {
    Receipt {
        customer: Customer { email },
        items: vec![ReceiptItem {
            description: description.to_owned(),
            quantity: "1.00",
            amount: value.clone(),
            vat_code: 1,
            payment_mode: "full_payment",
            payment_subject: "service",
        }],
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(DESCRIPTION_MAX_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(body: serde_json::Value) -> PaymentObject {
        serde_json::from_value(body).expect("a payment object")
    }

    #[test]
    fn descriptions_fit_yookassas_limit() {
        assert_eq!(truncate(&"я".repeat(300)).chars().count(), 128);
        assert_eq!(truncate("month"), "month");
    }

    #[test]
    fn only_a_paid_success_is_a_success() {
        let base = |status: &str, paid: bool| {
            remote_payment(object(serde_json::json!({
                "id": "p", "status": status, "paid": paid,
                "amount": {"value": "199.00", "currency": "RUB"},
            })))
            .state
        };
        assert_eq!(base("succeeded", true), RemoteState::Succeeded);
        assert_eq!(base("succeeded", false), RemoteState::Pending);
        assert_eq!(base("waiting_for_capture", true), RemoteState::Pending);
        assert_eq!(base("pending", false), RemoteState::Pending);
        assert_eq!(
            base("canceled", false),
            RemoteState::Canceled {
                permission_revoked: false
            }
        );
    }

    #[test]
    fn a_payment_reads_into_neutral_terms() {
        let remote = remote_payment(object(serde_json::json!({
            "id": "yk-1", "status": "canceled", "paid": false,
            "amount": {"value": "199.00", "currency": "RUB"},
            "refunded_amount": {"value": "1.5", "currency": "RUB"},
            "confirmation": {"type": "redirect", "confirmation_url": "javascript:alert(1)"},
            "metadata": {"payment_id": "42", "gift": "1"},
            "payment_method": {"type": "bank_card", "id": "pm-1", "saved": true},
            "cancellation_details": {"party": "yoo_money", "reason": "permission_revoked"},
        })));
        assert_eq!(remote.id, "yk-1");
        assert_eq!(remote.amount, Some(Money::rub_kopecks(19_900)));
        assert_eq!(remote.our_payment, Some(PaymentId(42)));
        assert_eq!(remote.saved_method, Some(SavedMethod::new("pm-1")));
        assert_eq!(
            remote.refunded,
            Refunded::Unreadable,
            "one decimal is not a kopeck amount"
        );
        assert_eq!(
            remote.pay_url, None,
            "only a web address is a page to send people to"
        );
        assert_eq!(
            remote.state,
            RemoteState::Canceled {
                permission_revoked: true
            }
        );
    }

    #[test]
    fn an_amount_in_another_currency_is_unreadable() {
        let remote = remote_payment(object(serde_json::json!({
            "id": "p", "status": "succeeded", "paid": true,
            "amount": {"value": "199.00", "currency": "USD"},
            "refunded_amount": {"value": "10.00", "currency": "RUB"},
        })));
        assert_eq!(remote.amount, None);
        assert_eq!(remote.refunded, Refunded::Total(Money::rub_kopecks(1_000)));
    }
}
