//! Promo codes: the operator makes, lists and disables them; a person enters one. A free-days
//! code adds its days at once (`Store::redeem_days`: once per person, limits checked in the
//! same transaction). A discount code changes the price of the next Stars invoice or card
//! checkout; what was offered rides in the invoice payload or the pending card payment, and
//! the code's use is recorded only when that payment is credited, so an invoice nobody pays
//! uses nothing up.
//!
//! A limited discount code's count can end a little above its limit: a payment already
//! offered at the discounted price when the last use went is still credited as offered (money
//! taken is never short-changed); Stars' pre-checkout refuses such invoices while they can
//! still be refused.

use domain::{
    Days, Money, Plan, PlanId, Promo, PromoBenefit, PromoCode, PromoRefusal, Subscription, User,
    UserId,
};
use store::{DaysRedemption, NewPromo};
use time::OffsetDateTime;

use crate::{App, AppError};

/// The plan recorded for free days given by a code to someone without a running plan.
pub const PROMO_PLAN_ID: &str = "promo";

/// What entering a code did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromoEntry {
    /// A free-days code: the days were added now.
    DaysAdded {
        days: Days,
        subscription: Subscription,
    },
    /// A discount code the person may use: show the discounted offers.
    Discount(Promo),
    Refused(PromoRefusal),
}

impl App {
    /// Makes a code. A `plan` must be one of `[[plans]]` (a discount also needs it for sale).
    pub async fn add_promo(&self, new: NewPromo) -> Result<Promo, AppError> {
        if let Some(plan) = &new.plan {
            if !self.settings().plans.iter().any(|p| &p.id == plan) {
                return Err(AppError::UnknownPlan(plan.0.clone()));
            }
        }
        Ok(self.store().create_promo(&new).await?)
    }

    /// Every code with its uses, oldest first.
    pub async fn promos(&self) -> Result<Vec<Promo>, AppError> {
        Ok(self.store().list_promos().await?)
    }

    /// Stops a code working at once; `false` if there is none or it was off already.
    pub async fn disable_promo(&self, code: &PromoCode) -> Result<bool, AppError> {
        Ok(self.store().disable_promo(code).await?)
    }

    /// The code `typed` as far as `user` may use it at `now`: known, on, unexpired, not used
    /// up, not used by them before.
    async fn promo_for(
        &self,
        user: UserId,
        typed: &str,
        now: OffsetDateTime,
    ) -> Result<Result<Promo, PromoRefusal>, AppError> {
        let Ok(code) = typed.parse::<PromoCode>() else {
            return Ok(Err(PromoRefusal::Unknown));
        };
        let Some(promo) = self.store().promo_by_code(&code).await? else {
            return Ok(Err(PromoRefusal::Unknown));
        };
        if let Err(refusal) = promo.usable(now) {
            return Ok(Err(refusal));
        }
        if self.store().has_redeemed(promo.id, user).await? {
            return Ok(Err(PromoRefusal::AlreadyUsed));
        }
        Ok(Ok(promo))
    }

    /// A person enters a code (in the bot). Free days are added at once, exactly once however
    /// often or concurrently it is entered; a discount code is handed back for the offers.
    pub async fn enter_promo(
        &self,
        user: &User,
        typed: &str,
        now: OffsetDateTime,
    ) -> Result<PromoEntry, AppError> {
        let promo = match self.promo_for(user.id, typed, now).await? {
            Ok(promo) => promo,
            Err(refusal) => return Ok(PromoEntry::Refused(refusal)),
        };
        let days = match promo.benefit {
            PromoBenefit::Percent(_) => {
                let sold = self.stars_plans().into_iter().chain(self.card_plans());
                let applies = sold.into_iter().any(|p| promo.applies_to(&p.id));
                return Ok(if applies {
                    PromoEntry::Discount(promo)
                } else {
                    PromoEntry::Refused(PromoRefusal::NotApplicable)
                });
            }
            PromoBenefit::Days(days) => days,
        };
        // Free days go on the running plan; a code for one plan only to its subscribers.
        let running = self
            .store()
            .subscription(user.id)
            .await?
            .filter(|s| s.ends_at > now);
        let plan = match (&promo.plan, running) {
            (Some(only), Some(sub)) if &sub.plan == only => sub.plan,
            (Some(_), _) => return Ok(PromoEntry::Refused(PromoRefusal::WrongPlan)),
            (None, Some(sub)) => sub.plan,
            (None, None) => PlanId(PROMO_PLAN_ID.into()),
        };
        Ok(
            match self
                .store()
                .redeem_days(promo.id, user.id, plan, days, now)
                .await?
            {
                DaysRedemption::Credited(subscription) => {
                    PromoEntry::DaysAdded { days, subscription }
                }
                DaysRedemption::AlreadyUsed => PromoEntry::Refused(PromoRefusal::AlreadyUsed),
                // It changed between the read and the write: say why as of now.
                DaysRedemption::Unusable => {
                    let again = self.store().promo(promo.id).await?;
                    PromoEntry::Refused(
                        again
                            .and_then(|p| p.usable(now).err())
                            .unwrap_or(PromoRefusal::UsedUp),
                    )
                }
            },
        )
    }

    /// What `plan` at `price` costs `user` with the discount code `typed` at `now`, and the
    /// code; a refusal when the code does not give this person a discount on this plan.
    pub async fn promo_price(
        &self,
        user: UserId,
        typed: &str,
        plan: &Plan,
        price: Money,
        now: OffsetDateTime,
    ) -> Result<Result<(Promo, Money), PromoRefusal>, AppError> {
        let promo = match self.promo_for(user, typed, now).await? {
            Ok(promo) => promo,
            Err(refusal) => return Ok(Err(refusal)),
        };
        if !promo.applies_to(&plan.id) {
            return Ok(Err(PromoRefusal::WrongPlan));
        }
        Ok(match promo.discounted(price) {
            Some(price) => Ok((promo, price)),
            None => Err(PromoRefusal::NotApplicable),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use domain::{NewUser, Percent, TelegramId};
    use store::testing::TestDb;
    use time::macros::datetime;

    use super::*;
    use crate::AppSettings;

    const NOW: OffsetDateTime = datetime!(2026-12-10 12:00 UTC);

    fn plans() -> Vec<Plan> {
        vec![
            Plan {
                id: PlanId("month".into()),
                days: Days(30),
                price_rub: Some(Money::rub_kopecks(19_900)),
                price_stars: Some(Money::stars(100)),
            },
            Plan {
                id: PlanId("year".into()),
                days: Days(365),
                price_rub: None,
                price_stars: Some(Money::stars(1000)),
            },
        ]
    }

    async fn app(db: &TestDb) -> App {
        let settings = AppSettings {
            plans: plans(),
            stars_enabled: true,
            ..AppSettings::default()
        };
        App::new(db.store.clone(), settings)
    }

    fn promo(code: &str, benefit: PromoBenefit, plan: Option<&str>) -> NewPromo {
        NewPromo {
            code: code.parse().unwrap(),
            benefit,
            plan: plan.map(|p| PlanId(p.into())),
            max_uses: None,
            valid_until: None,
            created_at: NOW,
        }
    }

    async fn person(db: &TestDb) -> User {
        db.store
            .create_user(&NewUser::from_telegram_id(TelegramId(5)), NOW)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_free_days_code_extends_at_once_and_only_once() {
        let db = TestDb::sqlite().await;
        let app = app(&db).await;
        let user = person(&db).await;
        app.add_promo(promo("GIFT7", PromoBenefit::Days(Days(7)), None))
            .await
            .unwrap();
        let first = app.enter_promo(&user, " gift7 ", NOW).await.unwrap();
        let PromoEntry::DaysAdded { subscription, .. } = first else {
            panic!("{first:?}");
        };
        assert_eq!(subscription.ends_at, NOW + time::Duration::days(7));
        assert_eq!(subscription.plan.0, PROMO_PLAN_ID);
        assert_eq!(
            app.enter_promo(&user, "GIFT7", NOW).await.unwrap(),
            PromoEntry::Refused(PromoRefusal::AlreadyUsed)
        );
        assert_eq!(
            app.enter_promo(&user, "nothing", NOW).await.unwrap(),
            PromoEntry::Refused(PromoRefusal::Unknown)
        );
        assert_eq!(app.promos().await.unwrap()[0].uses, 1);
    }

    #[tokio::test]
    async fn a_plan_code_gives_days_only_to_that_plans_subscribers_and_disabled_codes_nothing() {
        let db = TestDb::sqlite().await;
        let app = app(&db).await;
        let user = person(&db).await;
        app.add_promo(promo("YEARLY", PromoBenefit::Days(Days(5)), Some("year")))
            .await
            .unwrap();
        assert_eq!(
            app.enter_promo(&user, "yearly", NOW).await.unwrap(),
            PromoEntry::Refused(PromoRefusal::WrongPlan)
        );
        db.grant(user.id, "year", 365, NOW).await;
        assert!(matches!(
            app.enter_promo(&user, "yearly", NOW).await.unwrap(),
            PromoEntry::DaysAdded { .. }
        ));
        let unknown = app
            .add_promo(promo("NOPLAN", PromoBenefit::Days(Days(5)), Some("decade")))
            .await;
        assert!(
            matches!(unknown, Err(AppError::UnknownPlan(_))),
            "{unknown:?}"
        );
        app.add_promo(promo("OFF", PromoBenefit::Days(Days(5)), None))
            .await
            .unwrap();
        assert!(app.disable_promo(&"off".parse().unwrap()).await.unwrap());
        assert_eq!(
            app.enter_promo(&user, "OFF", NOW).await.unwrap(),
            PromoEntry::Refused(PromoRefusal::Disabled)
        );
    }

    #[tokio::test]
    async fn a_discount_code_prices_only_its_plan() {
        let db = TestDb::sqlite().await;
        let app = app(&db).await;
        let user = person(&db).await;
        let twenty = PromoBenefit::Percent(Percent::new(20).unwrap());
        app.add_promo(promo("MONTH20", twenty, Some("month")))
            .await
            .unwrap();
        assert!(matches!(
            app.enter_promo(&user, "month20", NOW).await.unwrap(),
            PromoEntry::Discount(_)
        ));
        let [month, year] = &plans()[..] else {
            unreachable!()
        };
        let (_, price) = app
            .promo_price(user.id, "month20", month, Money::stars(100), NOW)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(price, Money::stars(80));
        assert_eq!(
            app.promo_price(user.id, "month20", year, Money::stars(1000), NOW)
                .await
                .unwrap(),
            Err(PromoRefusal::WrongPlan)
        );
    }
}
