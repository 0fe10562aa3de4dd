//! Payments: amount, dates, status and the provider's ids. Never card data.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{Days, Money, PaymentId, PlanId, PromoCodeId, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    YooKassa,
    TelegramStars,
    /// Days granted by the operator by hand; no money moved.
    Manual,
}

impl Provider {
    pub fn code(self) -> &'static str {
        match self {
            Provider::YooKassa => "yookassa",
            Provider::TelegramStars => "telegram_stars",
            Provider::Manual => "manual",
        }
    }
    /// The provider's own name, for operators' messages.
    pub fn name(self) -> &'static str {
        match self {
            Provider::YooKassa => "YooKassa",
            Provider::TelegramStars => "Telegram Stars",
            Provider::Manual => "the operator, by hand",
        }
    }
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "yookassa" => Some(Provider::YooKassa),
            "telegram_stars" => Some(Provider::TelegramStars),
            "manual" => Some(Provider::Manual),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    Pending,
    Succeeded,
    Canceled,
    Refunded,
}

impl PaymentStatus {
    pub fn code(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::Succeeded => "succeeded",
            PaymentStatus::Canceled => "canceled",
            PaymentStatus::Refunded => "refunded",
        }
    }
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "pending" => Some(PaymentStatus::Pending),
            "succeeded" => Some(PaymentStatus::Succeeded),
            "canceled" => Some(PaymentStatus::Canceled),
            "refunded" => Some(PaymentStatus::Refunded),
            _ => None,
        }
    }

    /// A payment can be credited only on the way from pending to succeeded, which is what makes
    /// crediting happen once: every later transition leaves the subscription alone. Pending →
    /// refunded is a payment the provider took but that was never credited (its payer erased
    /// their account meanwhile) and was given back.
    pub fn can_become(self, next: PaymentStatus) -> bool {
        use PaymentStatus::*;
        matches!(
            (self, next),
            (Pending, Succeeded)
                | (Pending, Canceled)
                | (Pending, Refunded)
                | (Succeeded, Refunded)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub id: PaymentId,
    /// `None` once the person was erased: the record the law requires stays, unlinked.
    pub user_id: Option<UserId>,
    pub provider: Provider,
    /// The provider's id (YooKassa payment id, Telegram charge id); unique per provider.
    pub provider_payment_id: Option<String>,
    pub plan: PlanId,
    pub days: Days,
    pub amount: Money,
    /// How much of `amount` was given back, in the same minor units (a partial refund leaves
    /// the status succeeded; a full one makes it refunded).
    #[serde(default)]
    pub refunded_minor: i64,
    pub status: PaymentStatus,
    /// The discount code it was offered with, if any (`amount` is the discounted price).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promo_code_id: Option<PromoCodeId>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pending_payments_can_succeed() {
        use PaymentStatus::*;
        assert!(Pending.can_become(Succeeded));
        assert!(!Succeeded.can_become(Succeeded));
        assert!(!Canceled.can_become(Succeeded));
        assert!(!Refunded.can_become(Succeeded));
        assert!(Succeeded.can_become(Refunded));
        assert!(
            Pending.can_become(Refunded),
            "paid after erasure, given back uncredited"
        );
        assert!(!Canceled.can_become(Refunded));
    }

    #[test]
    fn codes_round_trip() {
        for p in [
            Provider::YooKassa,
            Provider::TelegramStars,
            Provider::Manual,
        ] {
            assert_eq!(Provider::from_code(p.code()), Some(p));
        }
        use PaymentStatus::*;
        for s in [Pending, Succeeded, Canceled, Refunded] {
            assert_eq!(PaymentStatus::from_code(s.code()), Some(s));
        }
    }
}
