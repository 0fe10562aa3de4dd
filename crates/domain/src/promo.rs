//! Promo codes: what a code gives (free days at once, or a percent off the next invoice), the
//! limits it carries, and the rules deciding whether one person may use it now.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{Days, Money, PlanId};

/// Shortest and longest code accepted; long enough to be hard to guess, short enough to ride in
/// a Telegram button's 64 bytes of callback data with a plan id.
pub const PROMO_CODE_MIN_LEN: usize = 3;
pub const PROMO_CODE_MAX_LEN: usize = 24;

/// The highest discount: 100% would make a free invoice, which neither Telegram Stars nor
/// YooKassa accepts; free time is what `--days` codes are for.
pub const PROMO_MAX_PERCENT: u8 = 99;

/// A promo code as people type it, kept in one case: `spring-25` and `SPRING-25` are one code.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PromoCode(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "a promo code is {PROMO_CODE_MIN_LEN} to {PROMO_CODE_MAX_LEN} letters A-Z, digits, '-' or '_'"
)]
pub struct InvalidPromoCode;

impl PromoCode {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for PromoCode {
    type Err = InvalidPromoCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let code = s.trim().to_ascii_uppercase();
        let allowed = code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !allowed || !(PROMO_CODE_MIN_LEN..=PROMO_CODE_MAX_LEN).contains(&code.len()) {
            return Err(InvalidPromoCode);
        }
        Ok(PromoCode(code))
    }
}

impl fmt::Display for PromoCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for PromoCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PromoCode({})", self.0)
    }
}

/// A promo code's number in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PromoCodeId(pub i64);

/// A whole percent off, 1..=[`PROMO_MAX_PERCENT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Percent(u8);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "a discount is 1 to {PROMO_MAX_PERCENT} percent (a 100% invoice cannot be paid: give free \
     days with --days instead)"
)]
pub struct InvalidPercent;

impl Percent {
    pub fn new(value: i64) -> Result<Percent, InvalidPercent> {
        u8::try_from(value)
            .ok()
            .filter(|p| (1..=PROMO_MAX_PERCENT).contains(p))
            .map(Percent)
            .ok_or(InvalidPercent)
    }

    pub fn get(self) -> u8 {
        self.0
    }

    /// `price` with this percent off, rounded down to the minor unit, but never below the
    /// smallest payment the currency's provider takes (one star; one rouble by card) unless
    /// the price was already below it.
    pub fn apply(self, price: Money) -> Money {
        let off = price.minor.saturating_mul(i64::from(self.0)) / 100;
        let floor = price.minor.min(price.currency.minor_per_major());
        Money {
            minor: (price.minor - off).max(floor),
            currency: price.currency,
        }
    }
}

/// What a code gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "amount")]
pub enum PromoBenefit {
    /// Days added to the person's subscription at once.
    Days(Days),
    /// A percent off the price of the next Stars invoice or card checkout.
    Percent(Percent),
}

impl PromoBenefit {
    /// The stored kind and amount.
    pub fn code(self) -> (&'static str, i64) {
        match self {
            PromoBenefit::Days(d) => ("days", i64::from(d.0)),
            PromoBenefit::Percent(p) => ("percent", i64::from(p.0)),
        }
    }

    pub fn from_code(kind: &str, amount: i64) -> Option<PromoBenefit> {
        match kind {
            "days" => u32::try_from(amount)
                .ok()
                .filter(|d| *d >= 1 && Days(*d) <= Days::MAX)
                .map(|d| PromoBenefit::Days(Days(d))),
            "percent" => Percent::new(amount).ok().map(PromoBenefit::Percent),
            _ => None,
        }
    }
}

/// A code the operator made, with its limits and how often it was used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Promo {
    pub id: PromoCodeId,
    pub code: PromoCode,
    pub benefit: PromoBenefit,
    /// Only for this plan: a discount only on it, free days only for its subscribers.
    pub plan: Option<PlanId>,
    /// Uses of everyone together; `None` is unlimited.
    pub max_uses: Option<u32>,
    /// The last instant it works; `None` is for ever.
    #[serde(with = "time::serde::rfc3339::option")]
    pub valid_until: Option<OffsetDateTime>,
    pub disabled: bool,
    pub uses: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Why a code cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PromoRefusal {
    /// No such code (or not one as typed).
    Unknown,
    Disabled,
    Expired,
    /// Every use of a limited code is taken.
    UsedUp,
    /// This person used it already.
    AlreadyUsed,
    /// Only for another plan.
    WrongPlan,
    /// A discount code entered where free days are given, or the other way round; or a
    /// discount on something not sold.
    NotApplicable,
}

impl Promo {
    /// Whether the code works at `now` at all, whoever enters it.
    pub fn usable(&self, now: OffsetDateTime) -> Result<(), PromoRefusal> {
        if self.disabled {
            return Err(PromoRefusal::Disabled);
        }
        if self.valid_until.is_some_and(|until| now > until) {
            return Err(PromoRefusal::Expired);
        }
        if self.max_uses.is_some_and(|max| self.uses >= max) {
            return Err(PromoRefusal::UsedUp);
        }
        Ok(())
    }

    /// Whether the code applies to `plan`.
    pub fn applies_to(&self, plan: &PlanId) -> bool {
        self.plan.as_ref().is_none_or(|p| p == plan)
    }

    /// The price of `price` under this code, if it is a discount code.
    pub fn discounted(&self, price: Money) -> Option<Money> {
        match self.benefit {
            PromoBenefit::Percent(p) => Some(p.apply(price)),
            PromoBenefit::Days(_) => None,
        }
    }
}

/// The end of `date` in UTC: what `--until YYYY-MM-DD` means.
pub fn end_of_day_utc(date: time::Date) -> OffsetDateTime {
    date.with_time(time::Time::from_hms(23, 59, 59).unwrap_or(time::Time::MIDNIGHT))
        .assume_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_case_insensitive_and_checked() {
        let a: PromoCode = " spring-25 ".parse().unwrap();
        assert_eq!(a.as_str(), "SPRING-25");
        assert_eq!(a, "SPRING-25".parse().unwrap());
        assert!("ab".parse::<PromoCode>().is_err());
        assert!("with space".parse::<PromoCode>().is_err());
        assert!("кириллица".parse::<PromoCode>().is_err());
        assert!("A".repeat(25).parse::<PromoCode>().is_err());
        assert!("A:B".parse::<PromoCode>().is_err());
    }

    #[test]
    fn percents_are_1_to_99() {
        assert!(Percent::new(0).is_err());
        assert!(Percent::new(100).is_err());
        assert!(Percent::new(-5).is_err());
        assert_eq!(Percent::new(99).unwrap().get(), 99);
    }

    #[test]
    fn a_discount_rounds_down_but_never_below_the_smallest_payment() {
        let p20 = Percent::new(20).unwrap();
        assert_eq!(p20.apply(Money::stars(100)), Money::stars(80));
        assert_eq!(p20.apply(Money::stars(7)), Money::stars(6));
        let p99 = Percent::new(99).unwrap();
        assert_eq!(p99.apply(Money::stars(50)), Money::stars(1));
        assert_eq!(
            p99.apply(Money::rub_kopecks(19_900)),
            Money::rub_kopecks(199)
        );
        assert_eq!(
            p99.apply(Money::rub_kopecks(5_000)),
            Money::rub_kopecks(100)
        );
        assert_eq!(p99.apply(Money::rub_kopecks(50)), Money::rub_kopecks(50));
    }

    #[test]
    fn benefits_round_trip_and_bad_rows_are_refused() {
        for b in [
            PromoBenefit::Days(Days(7)),
            PromoBenefit::Percent(Percent::new(15).unwrap()),
        ] {
            let (kind, amount) = b.code();
            assert_eq!(PromoBenefit::from_code(kind, amount), Some(b));
        }
        assert_eq!(PromoBenefit::from_code("days", 0), None);
        assert_eq!(PromoBenefit::from_code("percent", 100), None);
        assert_eq!(PromoBenefit::from_code("gift", 1), None);
    }

    fn promo() -> Promo {
        Promo {
            id: PromoCodeId(1),
            code: "X-1".parse().unwrap(),
            benefit: PromoBenefit::Days(Days(3)),
            plan: None,
            max_uses: Some(2),
            valid_until: Some(time::macros::datetime!(2026-12-31 23:59:59 UTC)),
            disabled: false,
            uses: 1,
            created_at: time::macros::datetime!(2026-12-01 0:00 UTC),
        }
    }

    #[test]
    fn limits_refuse_in_order() {
        let now = time::macros::datetime!(2026-12-10 0:00 UTC);
        assert_eq!(promo().usable(now), Ok(()));
        let late = time::macros::datetime!(2027-01-01 0:00 UTC);
        assert_eq!(promo().usable(late), Err(PromoRefusal::Expired));
        let used_up = Promo { uses: 2, ..promo() };
        assert_eq!(used_up.usable(now), Err(PromoRefusal::UsedUp));
        let off = Promo {
            disabled: true,
            ..promo()
        };
        assert_eq!(off.usable(now), Err(PromoRefusal::Disabled));
    }

    #[test]
    fn until_means_the_end_of_that_day_utc() {
        let end = end_of_day_utc(time::macros::date!(2026 - 12 - 31));
        assert_eq!(end, time::macros::datetime!(2026-12-31 23:59:59 UTC));
    }
}
