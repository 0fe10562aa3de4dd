//! The parts of YooKassa API v3's JSON we send and read. The payment object deliberately has
//! no `payment_method` field: card digits and issuer never even reach our types.

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
}

/// `payment_method_data` with only its `type`: the person enters the details on YooKassa's page.
#[derive(Debug, Clone, Serialize)]
pub struct PaymentMethodData {
    #[serde(rename = "type")]
    pub kind: &'static str,
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
    }
}
