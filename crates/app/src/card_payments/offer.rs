//! What is on sale by card and to whom, before YooKassa is asked anything: the plans, the
//! checkout link the bot gives out, and opening a pending payment (or reusing the one opened
//! moments ago) with its receipt address.

use domain::{
    Email, GiftCode, Money, Payment, Plan, Promo, PromoCode, PromoRefusal, Provider, ReturnToken,
    SubscriptionToken, User,
};
use store::NewPayment;
use time::OffsetDateTime;

use crate::{App, AppError};

/// The path of the checkout entry the bot links to; `web` serves it.
pub const CARD_CHECKOUT_PATH: &str = "/pay/checkout";

/// The checkout link's parameter that makes the purchase a gift (`gift=1`).
pub const GIFT_PARAM: &str = "gift";

/// A second checkout of the same plan by the same person within this long reuses the first
/// pending payment instead of opening another: a double click, a reload of the confirmation,
/// or a second tab pays once. Long enough for a slow second click, short enough that a person
/// coming back later gets a fresh payment.
pub const CHECKOUT_REUSE_WINDOW: time::Duration = time::Duration::minutes(10);

/// Why a card checkout is refused before anything is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardRefusal {
    /// Card payments are off, or the plan is not sold for roubles.
    NotOffered,
    /// The link's token belongs to nobody (rotated, erased, made up), or the person is blocked
    /// or never agreed to the policy.
    NotAllowed,
    /// The discount code entered gives this person nothing on this plan now.
    Promo(PromoRefusal),
}

/// What a checkout link offers one person: the plan, at the price a discount code gives them.
#[derive(Debug, Clone)]
pub struct CardOffer {
    pub plan: Plan,
    pub user: User,
    /// The plan's price, or the discounted one with `promo`.
    pub price: Money,
    pub promo: Option<Promo>,
}

/// A pending card payment just opened, with what the provider needs to know about it.
#[derive(Debug, Clone)]
pub struct CardCheckout {
    pub payment: Payment,
    /// The secret of the payment's return page.
    pub return_token: ReturnToken,
    /// The same person opened this payment moments ago (see [`CHECKOUT_REUSE_WINDOW`]).
    pub reused: bool,
    /// Bought as a gift: paying it makes a code instead of crediting the payer.
    pub gift: bool,
    pub plan: Plan,
    /// Where the 54-FZ receipt goes: the person's email, else the operator's default.
    pub receipt_email: Option<String>,
}

impl App {
    /// Plans sold for roubles, when card payments are on.
    pub fn card_plans(&self) -> Vec<Plan> {
        if !self.settings().yookassa.enabled {
            return Vec::new();
        }
        self.settings()
            .plans
            .iter()
            .filter(|p| p.price_rub.is_some_and(|m| m.minor > 0))
            .cloned()
            .collect()
    }

    /// `{public_url}/pay/checkout?t={token}&plan={plan}`: opening it shows the plan and a
    /// "pay" button; pressing it (a POST) starts a card payment for the token's owner and
    /// redirects to YooKassa's payment page.
    pub fn card_checkout_url(&self, token: &SubscriptionToken, plan: &Plan) -> String {
        self.settings().public_url.join_path(&format!(
            "{CARD_CHECKOUT_PATH}?t={}&plan={}",
            token.as_str(),
            query_escape(&plan.id.0)
        ))
    }

    /// [`App::card_checkout_url`] with discount code `promo` filled in (`&promo=CODE`).
    pub fn card_checkout_url_with_promo(
        &self,
        token: &SubscriptionToken,
        plan: &Plan,
        promo: &PromoCode,
    ) -> String {
        format!(
            "{}&promo={}",
            self.card_checkout_url(token, plan),
            query_escape(promo.as_str())
        )
    }

    /// The checkout link for `plan` bought as a gift (`&gift=1`).
    pub fn card_gift_checkout_url(&self, token: &SubscriptionToken, plan: &Plan) -> String {
        format!("{}&{GIFT_PARAM}=1", self.card_checkout_url(token, plan))
    }

    /// What a checkout link offers, read only: the plan, if it is sold by card and the token's
    /// owner may buy it. Nothing is stored.
    pub async fn card_offer(
        &self,
        token: &SubscriptionToken,
        plan: &str,
    ) -> Result<Result<(Plan, User), CardRefusal>, AppError> {
        let Some(plan) = self.card_plans().into_iter().find(|p| p.id.0 == plan) else {
            return Ok(Err(CardRefusal::NotOffered));
        };
        if plan.price_rub.is_none() {
            return Ok(Err(CardRefusal::NotOffered));
        }
        match self.store().user_by_sub_token(token).await? {
            Some(u) if !u.blocked && u.consent_at.is_some() => Ok(Ok((plan, u))),
            _ => Ok(Err(CardRefusal::NotAllowed)),
        }
    }

    /// [`App::card_offer`] with the discount code `promo` typed on the page or carried by the
    /// link, if any, priced for its owner at `now`. Nothing is stored.
    pub async fn card_offer_with_promo(
        &self,
        token: &SubscriptionToken,
        plan: &str,
        promo: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Result<CardOffer, CardRefusal>, AppError> {
        let (plan, user) = match self.card_offer(token, plan).await? {
            Ok(offer) => offer,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let Some(price) = plan.price_rub else {
            return Ok(Err(CardRefusal::NotOffered));
        };
        let Some(typed) = promo.map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(Ok(CardOffer {
                plan,
                user,
                price,
                promo: None,
            }));
        };
        Ok(
            match self.promo_price(user.id, typed, &plan, price, now).await? {
                Ok((promo, price)) => Ok(CardOffer {
                    plan,
                    user,
                    price,
                    promo: Some(promo),
                }),
                Err(refusal) => Err(CardRefusal::Promo(refusal)),
            },
        )
    }

    /// Opens a pending card payment for the owner of `token`, before YooKassa is asked, or
    /// hands back the one they opened for the same plan and price moments ago.
    pub async fn open_card_payment(
        &self,
        token: &SubscriptionToken,
        plan: &str,
        now: OffsetDateTime,
    ) -> Result<Result<CardCheckout, CardRefusal>, AppError> {
        self.open_card_payment_as(token, plan, None, false, now)
            .await
    }

    /// [`App::open_card_payment`] at the price discount code `promo` gives (checked again
    /// now); the payment carries the code, whose use is recorded when it is credited.
    pub async fn open_card_payment_with_promo(
        &self,
        token: &SubscriptionToken,
        plan: &str,
        promo: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Result<CardCheckout, CardRefusal>, AppError> {
        self.open_card_payment_as(token, plan, promo, false, now)
            .await
    }

    /// As [`App::open_card_payment_with_promo`], for the plan bought as a gift when `gift`.
    /// A gift is sold at its full price: discount codes are for the person's own plan.
    pub async fn open_card_payment_as(
        &self,
        token: &SubscriptionToken,
        plan: &str,
        promo: Option<&str>,
        gift: bool,
        now: OffsetDateTime,
    ) -> Result<Result<CardCheckout, CardRefusal>, AppError> {
        self.open_redirect_payment(Provider::YooKassa, token, plan, promo, gift, now)
            .await
    }

    /// [`App::open_card_payment_as`] with the provider that will take the payment.
    pub(crate) async fn open_redirect_payment(
        &self,
        provider: Provider,
        token: &SubscriptionToken,
        plan: &str,
        promo: Option<&str>,
        gift: bool,
        now: OffsetDateTime,
    ) -> Result<Result<CardCheckout, CardRefusal>, AppError> {
        let promo = promo.filter(|_| !gift);
        let CardOffer {
            plan,
            user,
            price,
            promo,
        } = match self.card_offer_with_promo(token, plan, promo, now).await? {
            Ok(offer) => offer,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let new = NewPayment {
            user_id: user.id,
            provider,
            provider_payment_id: None,
            plan: plan.id.clone(),
            days: plan.days,
            amount: price,
            created_at: now,
        };
        let reuse_since = now - CHECKOUT_REUSE_WINDOW;
        let opened = if gift {
            self.store()
                .open_gift_checkout_payment(
                    &new,
                    &ReturnToken::generate(),
                    &GiftCode::generate(),
                    reuse_since,
                )
                .await?
        } else {
            self.store()
                .open_checkout_payment_with_promo(
                    &new,
                    promo.map(|p| p.id),
                    &ReturnToken::generate(),
                    reuse_since,
                )
                .await?
        };
        Ok(Ok(CardCheckout {
            receipt_email: self.receipt_email(&user),
            payment: opened.payment,
            return_token: opened.return_token,
            reused: opened.reused,
            gift,
            plan,
        }))
    }

    /// The person's email, else `[yookassa] receipt_email`, else none.
    pub fn receipt_email(&self, user: &User) -> Option<String> {
        user.email
            .as_ref()
            .map(Email::as_str)
            .map(str::to_owned)
            .or_else(|| {
                let settings = self.settings();
                let fallback = settings.receipt_email.trim();
                (!fallback.is_empty()).then(|| fallback.to_owned())
            })
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_ids_are_escaped_in_checkout_links() {
        assert_eq!(query_escape("month"), "month");
        assert_eq!(query_escape("vip eu&x"), "vip%20eu%26x");
        assert_eq!(query_escape("год"), "%D0%B3%D0%BE%D0%B4");
    }
}
