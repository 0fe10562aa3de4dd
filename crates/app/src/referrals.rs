//! Referrals: each person's link (a random code, made when they first ask), linking a newcomer
//! to it when they sign up through it, and what the referrer may see (counts, never who). The
//! reward itself is granted by the store in the transaction that credits the newcomer's first
//! payment (Stars and card alike), so nothing here can grant it twice.

use domain::{Days, ReferralCode, User};
use store::{ReferralJoin, ReferralOffer, ReferralStats};
use time::OffsetDateTime;

use crate::{App, AppError};

/// A person's own referral code and how it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MyReferrals {
    pub code: ReferralCode,
    pub stats: ReferralStats,
    /// Days they earn per newcomer who pays (0: none).
    pub reward_days: u32,
}

impl App {
    /// The person's referral code and counts; `None` when referrals are off.
    pub async fn my_referrals(
        &self,
        user: &User,
        now: OffsetDateTime,
    ) -> Result<Option<MyReferrals>, AppError> {
        let settings = self.settings().referrals;
        if !settings.enabled {
            return Ok(None);
        }
        let code = self.store().referral_code(user.id, now).await?;
        let stats = self.store().referral_stats(user.id).await?;
        Ok(Some(MyReferrals {
            code,
            stats,
            reward_days: settings.reward_days,
        }))
    }

    /// Links `newcomer`, who signed up moments ago through a link with `code`, to its owner,
    /// with the rewards configured now. `claim_key` and `trial_key` are the newcomer's keyed
    /// hashes of their Telegram id (referral and trial domains): someone referred before, or
    /// who had an account before, is not a newcomer. `None` when referrals are off.
    pub async fn join_through_referral(
        &self,
        newcomer: &User,
        code: &ReferralCode,
        claim_key: &str,
        trial_key: &str,
        now: OffsetDateTime,
    ) -> Result<Option<ReferralJoin>, AppError> {
        let settings = self.settings().referrals;
        if !settings.enabled || newcomer.blocked {
            return Ok(None);
        }
        let offer = ReferralOffer {
            reward_days: Days(settings.reward_days),
            welcome_days: Days(settings.welcome_days),
        };
        Ok(Some(
            self.store()
                .join_through_referral(newcomer.id, code, claim_key, trial_key, offer, now)
                .await?,
        ))
    }
}
