//! The parts of YooKassa API v3's JSON we send and read. Of a payment's `payment_method` only
//! its `id` and `saved` flag are read (for auto-renewal): card digits and issuer never even
//! reach our types.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amount {
    pub value: String,
    pub currency: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CreatePayment {
    pub amount: Amount,
    pub capture: bool,
    pub confirmation: RedirectConfirmation,
    pub description: String,
    pub metadata: Metadata,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt: Option<Receipt>,
    /// The one way to pay YooKassa's page offers; without it, every way the shop has.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_method_data: Option<PaymentMethodData>,
    /// `Some(true)` when the person chose auto-renewal: YooKassa saves the payment method and
    /// reports its id in the succeeded payment (`payment_method.saved`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub save_payment_method: Option<bool>,
}

/// `payment_method_data` with only its `type`: the person enters the details on YooKassa's page.
#[derive(Debug, Clone, Serialize)]
pub struct PaymentMethodData {
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// A charge of a saved payment method (an autopayment): no confirmation, the person is not
/// asked again.
#[derive(Debug, Clone, Serialize)]
pub struct CreateAutopayment {
    pub amount: Amount,
    pub capture: bool,
    pub payment_method_id: String,
    pub description: String,
    pub metadata: Metadata,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt: Option<Receipt>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RedirectConfirmation {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub return_url: String,
}

/// Our payment id, so a payment found at YooKassa leads back to our record; and `gift = "1"`
/// when the plan is bought as a gift (so the shop's dashboard tells gifts apart).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    pub payment_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gift: Option<String>,
}

/// A 54-FZ receipt: one service line for the whole amount.
#[derive(Debug, Clone, Serialize)]
pub struct Receipt {
    pub customer: Customer,
    pub items: Vec<ReceiptItem>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Customer {
    pub email: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReceiptItem {
    pub description: String,
    pub quantity: &'static str,
    pub amount: Amount,
    pub vat_code: u8,
    pub payment_mode: &'static str,
    pub payment_subject: &'static str,
}

/// A payment as the API reports it.
#[derive(Debug, Clone, Deserialize)]
pub struct PaymentObject {
    pub id: String,
    pub status: String,
    #[serde(default)]
    pub paid: bool,
    pub amount: Amount,
    #[serde(default)]
    pub confirmation: Option<ConfirmationObject>,
    #[serde(default)]
    pub metadata: Option<Value>,
    /// All refunds of this payment so far; absent before the first.
    #[serde(default)]
    pub refunded_amount: Option<Amount>,
    /// Only the method's id and whether it was saved for autopayments; nothing of the card.
    #[serde(default)]
    pub payment_method: Option<PaymentMethod>,
    /// Why a payment was canceled.
    #[serde(default)]
    pub cancellation_details: Option<CancellationDetails>,
}

/// `payment_method`, reduced to what auto-renewal needs.
#[derive(Clone, Deserialize)]
pub struct PaymentMethod {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub saved: bool,
}

/// The method id charges the person's card with the shop's credentials: `{:?}` leaves it out.
impl std::fmt::Debug for PaymentMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentMethod")
            .field("saved", &self.saved)
            .finish_non_exhaustive()
    }
}

impl PaymentObject {
    /// The id of the payment method YooKassa saved for autopayments, if it did.
    pub fn saved_method_id(&self) -> Option<&str> {
        self.payment_method
            .as_ref()
            .filter(|m| m.saved && !m.id.is_empty())
            .map(|m| m.id.as_str())
    }

    /// Whether YooKassa canceled it because the person revoked the saved method: retrying
    /// cannot succeed.
    pub fn permission_revoked(&self) -> bool {
        self.cancellation_details
            .as_ref()
            .is_some_and(|c| c.reason == "permission_revoked")
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct CancellationDetails {
    #[serde(default)]
    pub party: String,
    #[serde(default)]
    pub reason: String,
}

impl PaymentObject {
    /// Our payment id from the metadata we set at creation.
    pub fn our_payment_id(&self) -> Option<i64> {
        self.metadata
            .as_ref()?
            .get("payment_id")?
            .as_str()?
            .parse()
            .ok()
    }
}

/// `GET /v3/me`: the shop the credentials belong to.
#[derive(Debug, Clone, Deserialize)]
pub struct ShopInfo {
    /// The shop id (`shop_id`).
    pub account_id: String,
    /// A test shop: payments move no money.
    #[serde(default)]
    pub test: bool,
    /// `enabled`, or `disabled` for a shop that may not take payments.
    #[serde(default)]
    pub status: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ConfirmationObject {
    #[serde(default)]
    pub confirmation_url: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CreateRefund {
    pub payment_id: String,
    pub amount: Amount,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RefundObject {
    pub id: String,
    pub status: String,
    #[serde(default)]
    pub payment_id: String,
}

/// `{"type":"error", ...}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ApiErrorBody {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub parameter: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payment_object_keeps_no_card_details() {
        let body = serde_json::json!({
            "id": "p", "status": "succeeded", "paid": true,
            "amount": {"value": "1.00", "currency": "RUB"},
            "metadata": {"payment_id": "42"},
            "payment_method": {"type": "bank_card", "card": {"first6": "555555", "last4": "4477"}},
        });
        let p: PaymentObject = serde_json::from_value(body).unwrap();
        assert_eq!(p.our_payment_id(), Some(42));
        assert!(!format!("{p:?}").contains("4477"));
        assert_eq!(p.saved_method_id(), None, "no id, not saved");
    }

    #[test]
    fn a_saved_method_gives_its_id_and_nothing_of_the_card() {
        let body = serde_json::json!({
            "id": "p", "status": "succeeded", "paid": true,
            "amount": {"value": "1.00", "currency": "RUB"},
            "payment_method": {"type": "bank_card", "id": "pm-1", "saved": true,
                "card": {"first6": "555555", "last4": "4477"}},
        });
        let p: PaymentObject = serde_json::from_value(body).unwrap();
        assert_eq!(p.saved_method_id(), Some("pm-1"));
        let debug = format!("{p:?}");
        assert!(
            !debug.contains("4477") && !debug.contains("pm-1"),
            "{debug}"
        );
    }

    #[test]
    fn a_revoked_permission_is_recognised() {
        let body = serde_json::json!({
            "id": "p", "status": "canceled", "paid": false,
            "amount": {"value": "1.00", "currency": "RUB"},
            "cancellation_details": {"party": "yoo_money", "reason": "permission_revoked"},
        });
        let p: PaymentObject = serde_json::from_value(body).unwrap();
        assert!(p.permission_revoked());
    }
}
