//! Selling plans for Telegram Stars: the offers, the invoice payload, the pre-checkout check and
//! crediting a successful payment exactly once, keyed by Telegram's charge id.

use domain::{Days, Money, Plan, PlanId, Provider, Subscription, TelegramId};
use store::{NewPayment, Settlement};
use time::OffsetDateTime;

use crate::{App, AppError};

/// Telegram Stars' currency code.
pub const STARS_CURRENCY: &str = "XTR";

/// The invoice payload: what was offered, so the payment is credited as offered even if the
/// operator changes the plans meanwhile. `stars:<plan>:<days>:<price>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StarsPayload {
    pub plan: PlanId,
    pub days: Days,
    pub stars: i64,
}

impl StarsPayload {
    pub fn for_plan(plan: &Plan) -> Option<StarsPayload> {
        Some(StarsPayload {
            plan: plan.id.clone(),
            days: plan.days,
            stars: plan.price_stars?.minor,
        })
    }

    pub fn encode(&self) -> String {
        format!("stars:{}:{}:{}", self.plan.0, self.days.0, self.stars)
    }

    pub fn decode(payload: &str) -> Option<StarsPayload> {
        let mut parts = payload.strip_prefix("stars:")?.rsplitn(3, ':');
        let stars = parts.next()?.parse().ok()?;
        let days = parts.next()?.parse().ok()?;
        let plan = parts.next()?;
        (!plan.is_empty()).then(|| StarsPayload {
            plan: PlanId(plan.to_owned()),
            days: Days(days),
            stars,
        })
    }
}

/// Why a checkout is refused before the person pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckoutRefusal {
    /// Stars payments are off, or the plan is no longer sold for this price.
    NotOffered,
    /// No account (never agreed, or erased) or blocked by the operator.
    NotAllowed,
}

/// What crediting a successful payment did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StarsCredit {
    Credited(Subscription),
    /// This charge id was credited before: nothing done.
    AlreadyCredited,
    /// A gift was paid (this delivery recorded it): its code is for the buyer to hand over.
    GiftPaid(domain::GiftCode),
    /// Paid, but there is nobody to credit (erased meanwhile) or the payload is not ours:
    /// the payment should be refunded.
    Uncreditable,
}

impl App {
    /// Plans sold for Stars, when Stars payments are on.
    pub fn stars_plans(&self) -> Vec<Plan> {
        if !self.settings().stars_enabled {
            return Vec::new();
        }
        self.settings()
            .plans
            .iter()
            .filter(|p| p.price_stars.is_some_and(|m| m.minor > 0))
            .cloned()
            .collect()
    }

    /// Answers Telegram's pre-checkout query: ok only for a plan on sale at this price, paid
    /// by a person with an account who is not blocked.
    pub async fn check_stars_checkout(
        &self,
        payer: TelegramId,
        payload: &str,
        currency: &str,
        total: i64,
    ) -> Result<Result<(), CheckoutRefusal>, AppError> {
        // A plain purchase or a gift of the same offer: the same check.
        let offered = StarsPayload::decode_any(payload)
            .map(|(p, _)| p)
            .filter(|p| {
                currency == STARS_CURRENCY
                    && p.stars == total
                    && self
                        .stars_plans()
                        .iter()
                        .any(|plan| StarsPayload::for_plan(plan).as_ref() == Some(p))
            });
        if offered.is_none() {
            return Ok(Err(CheckoutRefusal::NotOffered));
        }
        match self.store().user_by_telegram(payer).await? {
            Some(user) if !user.blocked && user.consent_at.is_some() => Ok(Ok(())),
            _ => Ok(Err(CheckoutRefusal::NotAllowed)),
        }
    }

    /// Credits a successful Stars payment once per `charge_id`, however often Telegram (or a
    /// replay) delivers it.
    pub async fn credit_stars(
        &self,
        payer: TelegramId,
        payload: &str,
        currency: &str,
        total: i64,
        charge_id: &str,
        now: OffsetDateTime,
    ) -> Result<StarsCredit, AppError> {
        if let Some(gift) =
            StarsPayload::decode_gift(payload).filter(|_| currency == STARS_CURRENCY)
        {
            return self
                .credit_stars_gift(payer, gift, total, charge_id, now)
                .await;
        }
        let Some(paid) = StarsPayload::decode(payload).filter(|_| currency == STARS_CURRENCY)
        else {
            return Ok(StarsCredit::Uncreditable);
        };
        let Some(user) = self.store().user_by_telegram(payer).await? else {
            return Ok(StarsCredit::Uncreditable);
        };
        let new = NewPayment {
            user_id: user.id,
            provider: Provider::TelegramStars,
            provider_payment_id: Some(charge_id.to_owned()),
            plan: paid.plan,
            days: paid.days,
            amount: Money::stars(total),
            created_at: now,
        };
        Ok(match self.store().record_paid(&new).await? {
            Settlement::Credited(sub) => StarsCredit::Credited(sub),
            Settlement::AlreadySettled
            | Settlement::Marked
            | Settlement::Uncreditable
            | Settlement::GiftPaid(_) => StarsCredit::AlreadyCredited,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_survive_a_round_trip_even_with_colons_in_the_plan_id() {
        let p = StarsPayload {
            plan: PlanId("vip:eu".into()),
            days: Days(30),
            stars: 100,
        };
        assert_eq!(StarsPayload::decode(&p.encode()), Some(p));
    }

    #[test]
    fn foreign_payloads_are_not_ours() {
        assert_eq!(StarsPayload::decode("yookassa:1"), None);
        assert_eq!(StarsPayload::decode("stars::30:100"), None);
        assert_eq!(StarsPayload::decode("stars:month:x:100"), None);
    }
}
