//! YooKassa API v3's JSON shapes as the emulator sends them: payments, refunds, errors and
//! notifications, card details included (as the real API does), so tests can prove we drop them.

use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The test card every emulated payment is paid with; tests search the database for these.
pub const CARD_FIRST6: &str = "555555";
pub const CARD_LAST4: &str = "4477";
pub const CARD_ISSUER_NAME: &str = "Emulated Issuer Bank";
pub const CARD_ISSUER_COUNTRY: &str = "RU";

/// A payment's life in the emulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentStatus {
    Pending,
    WaitingForCapture,
    Succeeded,
    Canceled,
}

impl PaymentStatus {
    pub fn code(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::WaitingForCapture => "waiting_for_capture",
            PaymentStatus::Succeeded => "succeeded",
            PaymentStatus::Canceled => "canceled",
        }
    }
}

/// One payment as the emulator keeps it.
#[derive(Debug, Clone)]
pub struct EmulatedPayment {
    pub id: String,
    pub status: PaymentStatus,
    /// `"199.00"`, exactly as the shop sent it.
    pub amount_value: String,
    pub currency: String,
    pub description: Option<String>,
    pub metadata: Value,
    pub return_url: String,
    pub confirmation_url: String,
    pub created_at: OffsetDateTime,
    pub captured_at: Option<OffsetDateTime>,
    /// Sum of succeeded refunds, in kopecks.
    pub refunded_minor: i64,
    /// `payment_method_data.type` of the request, when the shop chose the way to pay.
    pub method: Option<String>,
    /// The shop asked to save the payment method (`save_payment_method: true`).
    pub save_method: bool,
    /// The payment method's id: saved for autopayments when `save_method` and paid, or the
    /// saved method an autopayment charged.
    pub method_id: String,
    /// Why it was canceled (`cancellation_details.reason`).
    pub cancellation_reason: &'static str,
    /// `cancellation_details.party`.
    pub cancellation_party: &'static str,
}

pub fn timestamp(at: OffsetDateTime) -> String {
    // Formatting a valid UTC instant as RFC 3339 cannot fail.
    at.format(&Rfc3339).unwrap_or_default()
}

impl EmulatedPayment {
    /// The payment object `GET /v3/payments/{id}` answers with.
    pub fn to_json(&self) -> Value {
        let paid = matches!(
            self.status,
            PaymentStatus::Succeeded | PaymentStatus::WaitingForCapture
        );
        let mut v = json!({
            "id": self.id,
            "status": self.status.code(),
            "paid": paid,
            "amount": {"value": self.amount_value, "currency": self.currency},
            "created_at": timestamp(self.created_at),
            "metadata": self.metadata,
            "recipient": {"account_id": "100500", "gateway_id": "100700"},
            "refundable": self.status == PaymentStatus::Succeeded
                && parse_minor(&self.amount_value).is_some_and(|paid| self.refunded_minor < paid),
            "test": true,
        });
        if let Some(d) = &self.description {
            v["description"] = json!(d);
        }
        if let Some(method) = &self.method {
            // As YooKassa does: a payment created with `payment_method_data` shows its method
            // from the start.
            v["payment_method"] = json!({"type": method, "id": self.id, "saved": false});
        }
        match self.status {
            PaymentStatus::Pending => {
                v["confirmation"] = json!({
                    "type": "redirect",
                    "confirmation_url": self.confirmation_url,
                    "return_url": self.return_url,
                });
            }
            PaymentStatus::Succeeded | PaymentStatus::WaitingForCapture => {
                if matches!(self.method.as_deref(), None | Some("bank_card")) {
                    v["payment_method"] = card_payment_method(&self.method_id, self.save_method);
                }
                v["authorization_details"] = json!({
                    "rrn": "603668680243",
                    "auth_code": "000000",
                    "three_d_secure": {"applied": true},
                });
                v["income_amount"] = json!({"value": self.amount_value, "currency": self.currency});
                v["refunded_amount"] = json!({
                    "value": format_minor(self.refunded_minor),
                    "currency": self.currency,
                });
                if let Some(at) = self.captured_at {
                    v["captured_at"] = json!(timestamp(at));
                }
            }
            PaymentStatus::Canceled => {
                v["payment_method"] = card_payment_method(&self.method_id, false);
                v["cancellation_details"] = json!({
                    "party": self.cancellation_party,
                    "reason": self.cancellation_reason,
                });
            }
        }
        v
    }
}

fn card_payment_method(id: &str, saved: bool) -> Value {
    json!({
        "type": "bank_card",
        "id": id,
        "saved": saved,
        "title": format!("Bank card *{CARD_LAST4}"),
        "card": {
            "first6": CARD_FIRST6,
            "last4": CARD_LAST4,
            "expiry_month": "07",
            "expiry_year": "2031",
            "card_type": "MasterCard",
            "issuer_country": CARD_ISSUER_COUNTRY,
            "issuer_name": CARD_ISSUER_NAME,
        },
    })
}

/// `GET /v3/me` for a test shop: YooKassa's shop object (account id, test flag,
/// fiscalization, payment methods, status).
pub fn shop_info(shop_id: &str) -> Value {
    json!({
        "account_id": shop_id,
        "test": true,
        "fiscalization_enabled": false,
        "payment_methods": ["bank_card"],
        "status": "enabled",
    })
}

/// `{"type":"error", ...}` with the HTTP status YooKassa uses for that code.
pub fn error(code: &str, description: &str, parameter: Option<&str>) -> Value {
    let mut v = json!({
        "type": "error",
        "id": uuid::Uuid::new_v4().to_string(),
        "code": code,
        "description": description,
    });
    if let Some(p) = parameter {
        v["parameter"] = json!(p);
    }
    v
}

/// A notification about a payment's current state: `payment.<status>`.
pub fn notification(payment: &EmulatedPayment) -> Value {
    json!({
        "type": "notification",
        "event": format!("payment.{}", payment.status.code()),
        "object": payment.to_json(),
    })
}

/// A notification about a refund: `refund.succeeded`, the refund object inside.
pub fn refund_notification(refund: &Value) -> Value {
    json!({
        "type": "notification",
        "event": "refund.succeeded",
        "object": refund,
    })
}

/// A refund object.
pub fn refund(
    id: &str,
    payment_id: &str,
    value: &str,
    currency: &str,
    at: OffsetDateTime,
) -> Value {
    json!({
        "id": id,
        "payment_id": payment_id,
        "status": "succeeded",
        "created_at": timestamp(at),
        "amount": {"value": value, "currency": currency},
    })
}

/// Parses YooKassa's amount string: digits, a dot and exactly two decimals.
pub fn parse_minor(value: &str) -> Option<i64> {
    let (major, minor) = value.split_once('.')?;
    if major.is_empty()
        || minor.len() != 2
        || !major.bytes().all(|b| b.is_ascii_digit())
        || !minor.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    major
        .parse::<i64>()
        .ok()?
        .checked_mul(100)?
        .checked_add(minor.parse().ok()?)
}

pub fn format_minor(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_need_exactly_two_decimals() {
        assert_eq!(parse_minor("199.00"), Some(19_900));
        assert_eq!(parse_minor("0.50"), Some(50));
        assert_eq!(parse_minor("199"), None);
        assert_eq!(parse_minor("199.5"), None);
        assert_eq!(parse_minor("-1.00"), None);
        assert_eq!(format_minor(19_950), "199.50");
    }

    #[test]
    fn a_succeeded_payment_carries_card_details_and_no_confirmation() {
        let p = EmulatedPayment {
            id: "p1".into(),
            status: PaymentStatus::Succeeded,
            amount_value: "199.00".into(),
            currency: "RUB".into(),
            description: None,
            metadata: json!({"payment_id": "7"}),
            return_url: "http://r".into(),
            confirmation_url: "http://c".into(),
            created_at: OffsetDateTime::UNIX_EPOCH,
            captured_at: None,
            refunded_minor: 0,
            method: None,
            save_method: false,
            method_id: "m1".into(),
            cancellation_reason: "insufficient_funds",
            cancellation_party: "payment_network",
        };
        let v = p.to_json();
        assert_eq!(v["paid"], true);
        assert_eq!(v["payment_method"]["card"]["last4"], CARD_LAST4);
        assert!(v.get("confirmation").is_none());
        assert_eq!(notification(&p)["event"], "payment.succeeded");
        let r = refund("r1", "p1", "50.00", "RUB", OffsetDateTime::UNIX_EPOCH);
        let note = refund_notification(&r);
        assert_eq!(note["event"], "refund.succeeded");
        assert_eq!(note["object"]["payment_id"], "p1");
    }
}
