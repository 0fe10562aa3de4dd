//! Selling plans for Telegram Stars: the offers, the invoice payload, the pre-checkout check and
//! crediting a successful payment exactly once, keyed by Telegram's charge id.

use domain::{
    Days, Money, Plan, PlanId, PromoCode, PromoRefusal, Provider, Subscription, TelegramId, UserId,
};
use store::{NewPayment, Settlement};
use time::OffsetDateTime;

use crate::{App, AppError};

/// Telegram Stars' currency code.
pub const STARS_CURRENCY: &str = "XTR";

/// The invoice payload: what was offered, so the payment is credited as offered even if the
/// operator changes the plans meanwhile. `stars:<plan>:<days>:<price>`, or with a discount
/// code `starsp:<CODE>:<plan>:<days>:<price>` (the price already discounted; codes hold no
/// colon).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StarsPayload {
    pub plan: PlanId,
    pub days: Days,
    pub stars: i64,
    /// The discount code the price was offered with.
    pub promo: Option<PromoCode>,
}

impl StarsPayload {
    pub fn for_plan(plan: &Plan) -> Option<StarsPayload> {
        Some(StarsPayload {
            plan: plan.id.clone(),
            days: plan.days,
            stars: plan.price_stars?.minor,
            promo: None,
        })
    }

    pub fn encode(&self) -> String {
        let head = match &self.promo {
            Some(code) => format!("starsp:{code}"),
            None => "stars".to_owned(),
        };
        format!("{head}:{}:{}:{}", self.plan.0, self.days.0, self.stars)
    }

    pub fn decode(payload: &str) -> Option<StarsPayload> {
        let (promo, rest) = match payload.strip_prefix("starsp:") {
            Some(rest) => {
                let (code, rest) = rest.split_once(':')?;
                (Some(code.parse::<PromoCode>().ok()?), rest)
            }
            None => (None, payload.strip_prefix("stars:")?),
        };
        let mut parts = rest.rsplitn(3, ':');
        let stars = parts.next()?.parse().ok()?;
        let days = parts.next()?.parse().ok()?;
        let plan = parts.next()?;
        (!plan.is_empty()).then(|| StarsPayload {
            plan: PlanId(plan.to_owned()),
            days: Days(days),
            stars,
            promo,
        })
    }
}

/// Why a checkout is refused before the person pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckoutRefusal {
    /// Stars payments are off, or the plan is no longer sold for this price.
    NotOffered,
    /// The invoice's discount code no longer gives the payer this price (disabled, expired,
    /// used up, or used by them already).
    PromoNoLongerValid,
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
        let plans = self.stars_plans();
        // A plain purchase or a gift of the same offer: the same check.
        let offered = StarsPayload::decode_any(payload).and_then(|(p, _)| {
            // The plan on sale whose full-price payload this one is, discount code aside.
            let full = StarsPayload {
                promo: None,
                ..p.clone()
            };
            let plan = plans.iter().find(|plan| {
                StarsPayload::for_plan(plan).is_some_and(|f| {
                    f.plan == full.plan
                        && f.days == full.days
                        && (p.promo.is_some() || f.stars == full.stars)
                })
            })?;
            (currency == STARS_CURRENCY && p.stars == total).then(|| (p, plan.clone()))
        });
        let Some((offered, plan)) = offered else {
            return Ok(Err(CheckoutRefusal::NotOffered));
        };
        let user = match self.store().user_by_telegram(payer).await? {
            Some(user) if !user.blocked && user.consent_at.is_some() => user,
            _ => return Ok(Err(CheckoutRefusal::NotAllowed)),
        };
        if let (Some(code), Some(full)) = (&offered.promo, plan.price_stars) {
            let now = OffsetDateTime::now_utc();
            let priced = self
                .promo_price(user.id, code.as_str(), &plan, full, now)
                .await?;
            if !priced.is_ok_and(|(_, price)| price.minor == offered.stars) {
                return Ok(Err(CheckoutRefusal::PromoNoLongerValid));
            }
        }
        Ok(Ok(()))
    }

    /// The invoice payload of `plan` for `user`, at the price discount code `promo` gives them
    /// now (or the full price without one); a refusal when the code gives them nothing here.
    pub async fn stars_payload(
        &self,
        user: UserId,
        plan: &Plan,
        promo: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Option<Result<StarsPayload, PromoRefusal>>, AppError> {
        let Some(full) = StarsPayload::for_plan(plan) else {
            return Ok(None);
        };
        let Some(typed) = promo else {
            return Ok(Some(Ok(full)));
        };
        let Some(price) = plan.price_stars else {
            return Ok(None);
        };
        Ok(Some(
            self.promo_price(user, typed, plan, price, now)
                .await?
                .map(|(promo, price)| StarsPayload {
                    stars: price.minor,
                    promo: Some(promo.code),
                    ..full
                }),
        ))
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
        // A discounted payment records its code's use with the credit (once per person).
        let promo = match &paid.promo {
            Some(code) => self.store().promo_by_code(code).await?.map(|p| p.id),
            None => None,
        };
        Ok(
            match self.store().record_paid_with_promo(&new, promo).await? {
                Settlement::Credited(sub) => StarsCredit::Credited(sub),
                Settlement::AlreadySettled
                | Settlement::Marked
                | Settlement::Uncreditable
                | Settlement::GiftPaid(_) => StarsCredit::AlreadyCredited,
            },
        )
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
            promo: None,
        };
        assert_eq!(StarsPayload::decode(&p.encode()), Some(p.clone()));
        let discounted = StarsPayload {
            stars: 80,
            promo: Some("SPRING-20".parse().unwrap()),
            ..p
        };
        assert_eq!(discounted.encode(), "starsp:SPRING-20:vip:eu:30:80");
        assert_eq!(StarsPayload::decode(&discounted.encode()), Some(discounted));
    }

    #[test]
    fn foreign_payloads_are_not_ours() {
        assert_eq!(StarsPayload::decode("yookassa:1"), None);
        assert_eq!(StarsPayload::decode("stars::30:100"), None);
        assert_eq!(StarsPayload::decode("stars:month:x:100"), None);
        assert_eq!(StarsPayload::decode("starsp:a b:month:30:100"), None);
        assert_eq!(StarsPayload::decode("starsp:month:30:100"), None);
    }
}
