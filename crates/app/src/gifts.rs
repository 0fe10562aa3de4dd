//! Gifts: a plan bought for someone else, by Stars (the invoice payload says `gift:`) or by card
//! (the checkout link says `gift=1`, YooKassa's metadata `gift`). Paying it credits nobody and
//! makes a random code, shown to the buyer only; whoever redeems it first (in the bot, by the
//! code or its `?start=gift_<code>` link) gets the plan's days, exactly once.

use domain::{GiftCode, Money, Provider, Subscription, TelegramId, User};
use store::{GiftRedemption, NewPayment, Settlement};
use time::OffsetDateTime;

use crate::stars::{StarsCredit, StarsPayload};
use crate::{App, AppError};

/// What redeeming a gift code did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redeemed {
    /// This person got the gift's days.
    Granted {
        subscription: Subscription,
        days: u32,
    },
    /// No gift can be redeemed with this code (made up, used, expired, or not paid).
    NotRedeemable,
    /// The operator blocked the person.
    Blocked,
}

impl StarsPayload {
    /// The invoice payload of this offer bought as a gift: `gift:<plan>:<days>:<price>`.
    pub fn encode_gift(&self) -> String {
        format!("gift:{}", self.encode().trim_start_matches("stars:"))
    }

    /// Reads a gift's invoice payload; `None` for anything else (a plain purchase included).
    pub fn decode_gift(payload: &str) -> Option<StarsPayload> {
        StarsPayload::decode(&format!("stars:{}", payload.strip_prefix("gift:")?))
    }

    /// Reads a plain or a gift payload: the offer, and whether it is a gift.
    pub fn decode_any(payload: &str) -> Option<(StarsPayload, bool)> {
        match StarsPayload::decode(payload) {
            Some(plain) => Some((plain, false)),
            None => StarsPayload::decode_gift(payload).map(|gift| (gift, true)),
        }
    }
}

impl App {
    /// Records a successful Stars payment for a gift once per `charge_id` and makes its code.
    pub(crate) async fn credit_stars_gift(
        &self,
        payer: TelegramId,
        paid: StarsPayload,
        total: i64,
        charge_id: &str,
        now: OffsetDateTime,
    ) -> Result<StarsCredit, AppError> {
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
        Ok(
            match self
                .store()
                .record_paid_gift(&new, &GiftCode::generate())
                .await?
            {
                Settlement::GiftPaid(code) => StarsCredit::GiftPaid(code),
                Settlement::Credited(_)
                | Settlement::AlreadySettled
                | Settlement::Marked
                | Settlement::Uncreditable => StarsCredit::AlreadyCredited,
            },
        )
    }

    /// Redeems `code` for `user`: the first redemption of a paid gift gets its days.
    pub async fn redeem_gift(
        &self,
        user: &User,
        code: &GiftCode,
        now: OffsetDateTime,
    ) -> Result<Redeemed, AppError> {
        if user.blocked {
            return Ok(Redeemed::Blocked);
        }
        Ok(match self.store().redeem_gift(code, user.id, now).await? {
            GiftRedemption::Redeemed { subscription, days } => Redeemed::Granted {
                subscription,
                days: days.0,
            },
            GiftRedemption::NotRedeemable => Redeemed::NotRedeemable,
        })
    }

    /// The person's paid gifts nobody redeemed yet, with their codes (shown to them only), so
    /// a code whose message went missing is not lost.
    pub async fn unredeemed_gifts(&self, buyer: &User) -> Result<Vec<store::GiftBought>, AppError> {
        let bought = self.store().gifts_bought(buyer.id).await?;
        Ok(bought.into_iter().filter(|g| g.code.is_some()).collect())
    }

    /// The code of the gift payment `payment` bought, while it is unredeemed.
    pub async fn gift_code_of(
        &self,
        payment: domain::PaymentId,
    ) -> Result<Option<GiftCode>, AppError> {
        Ok(self.store().gift_of_payment(payment).await?.flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{Days, PlanId};

    #[test]
    fn gift_payloads_are_told_apart_from_plain_ones() {
        let p = StarsPayload {
            plan: PlanId("month".into()),
            days: Days(30),
            stars: 100,
            promo: None,
        };
        assert_eq!(p.encode_gift(), "gift:month:30:100");
        assert_eq!(StarsPayload::decode_gift(&p.encode_gift()), Some(p.clone()));
        assert_eq!(StarsPayload::decode(&p.encode_gift()), None);
        assert_eq!(StarsPayload::decode_gift(&p.encode()), None);
        assert_eq!(
            StarsPayload::decode_any(&p.encode_gift()),
            Some((p.clone(), true))
        );
        assert_eq!(StarsPayload::decode_any(&p.encode()), Some((p, false)));
    }
}
