//! Telegram Stars subscriptions: a Stars plan of exactly 30 days (Telegram's only subscription
//! period) is also offered as a subscription invoice link; Telegram then charges the person
//! every 30 days by itself and sends each charge as a `successful_payment`, which is credited
//! like any Stars payment, once per charge id ([`App::credit_stars`]). Remembered here: the
//! latest charge id, so the bot's "cancel" button can call `editUserStarSubscription`. A
//! person who cancels inside Telegram simply gets no more charges, so no more days.

use domain::{Plan, TelegramId, UserId};
use store::StarsSubscription;
use time::OffsetDateTime;

use crate::stars::StarsPayload;
use crate::{App, AppError};

/// Telegram's one subscription period, in seconds (30 days).
pub const STARS_SUBSCRIPTION_PERIOD_SECS: u32 = 2_592_000;
/// The days a plan must give to be sold as a Stars subscription.
pub const STARS_SUBSCRIPTION_DAYS: u32 = 30;

impl App {
    /// Stars plans also sold as a monthly Stars subscription: those of exactly 30 days.
    pub fn stars_subscription_plans(&self) -> Vec<Plan> {
        self.stars_plans()
            .into_iter()
            .filter(|p| p.days.0 == STARS_SUBSCRIPTION_DAYS)
            .collect()
    }

    /// Remembers the Stars subscription a credited payment belongs to (its charge id and until
    /// when it is paid). Nothing for someone unknown or a payload that is not ours.
    pub async fn note_stars_subscription(
        &self,
        payer: TelegramId,
        payload: &str,
        charge_id: &str,
        renews_until: OffsetDateTime,
    ) -> Result<(), AppError> {
        // A subscription's invoice carries the plain full-price payload; a discounted
        // (`starsp:`) or gift payload is a one-off payment, never a subscription.
        let Some(paid) = StarsPayload::decode(payload).filter(|p| p.promo.is_none()) else {
            return Ok(());
        };
        let Some(user) = self.store().user_by_telegram(payer).await? else {
            return Ok(());
        };
        let subscription = StarsSubscription {
            plan: paid.plan,
            charge_id: charge_id.to_owned(),
            renews_until,
        };
        match self
            .store()
            .record_stars_subscription(user.id, &subscription)
            .await
        {
            Ok(()) | Err(store::StoreError::UserNotFound) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The person's Stars subscription, if one is remembered.
    pub async fn stars_subscription(
        &self,
        user: UserId,
    ) -> Result<Option<StarsSubscription>, AppError> {
        Ok(self.store().stars_subscription(user).await?)
    }

    /// Forgets it once Telegram confirmed the cancellation. `true` if there was one.
    pub async fn forget_stars_subscription(&self, user: UserId) -> Result<bool, AppError> {
        Ok(self.store().forget_stars_subscription(user).await?)
    }
}
