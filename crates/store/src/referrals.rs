//! Referrals: each person's random code, who joined through whose link (one referrer per
//! newcomer, once per Telegram id ever, through an opaque claim key like the trial's), and the
//! reward, granted by one conditional update inside the transaction that credits the
//! newcomer's first payment, so no replay or race grants it twice.

use domain::{
    from_unix_seconds, unix_seconds, Days, PlanId, ReferralCode, UserId, REFERRAL_PLAN_ID,
};
use serde::Serialize;
use sqlx::{Any, Row as _, Transaction};
use time::OffsetDateTime;

use crate::error::missing_user;
use crate::subscriptions::grant_in;
use crate::{Store, StoreError};

/// What the referrer may know: how many joined through their link and how many of those paid.
/// Never who.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ReferralStats {
    pub joined: u64,
    pub paid: u64,
}

/// What linking a newcomer to a referral code did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferralJoin {
    Joined,
    /// No one has this code (made up, or its owner was erased).
    UnknownCode,
    /// The code is the newcomer's own.
    SelfReferral,
    /// This Telegram id joined through a referral link before, or had an account before
    /// (it took the trial): not a newcomer.
    NotNewcomer,
}

/// The reward offered when a newcomer joined; days of 0 mean none for that side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReferralOffer {
    pub reward_days: Days,
    pub welcome_days: Days,
}

/// A reward just granted, from the newcomer's first payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReferralRewarded {
    pub referrer: UserId,
    pub reward_days: Days,
    pub welcome_days: Days,
}

/// How a person joined, as their export shows it (never who referred them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReferredExport {
    #[serde(with = "time::serde::rfc3339")]
    pub joined_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub rewarded_at: Option<OffsetDateTime>,
    pub welcome_days: u32,
}

/// A person's referral data in their export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReferralExport {
    /// Their own code, if they ever asked for their link.
    pub code: Option<String>,
    pub stats: ReferralStats,
    /// Whether they joined through someone's link.
    pub referred: Option<ReferredExport>,
}

fn days_from(v: i64, column: &'static str) -> Result<Days, StoreError> {
    u32::try_from(v)
        .map(Days)
        .map_err(|_| StoreError::Corrupt(column))
}

impl Store {
    /// The person's referral code, made now (random) if they have none yet.
    pub async fn referral_code(
        &self,
        user: UserId,
        now: OffsetDateTime,
    ) -> Result<ReferralCode, StoreError> {
        let fresh = ReferralCode::generate();
        sqlx::query(
            "INSERT INTO referral_codes (user_id, code, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO NOTHING",
        )
        .bind(user.0)
        .bind(fresh.as_str())
        .bind(unix_seconds(now))
        .execute(&self.pool)
        .await
        .map_err(missing_user)?;
        let row = sqlx::query("SELECT code FROM referral_codes WHERE user_id = $1")
            .bind(user.0)
            .fetch_one(&self.pool)
            .await?;
        let code: String = row.try_get("code")?;
        code.parse()
            .map_err(|_| StoreError::Corrupt("referral_codes.code"))
    }

    /// Links `newcomer` (an account made moments ago) to the owner of `code`, with the reward
    /// offered now. `claim_key` is the newcomer's referral claim key and `trial_key` their trial
    /// claim key (both keyed hashes of their Telegram id): a Telegram id that joined through a
    /// link before, or took the trial under an earlier account, is not a newcomer.
    pub async fn join_through_referral(
        &self,
        newcomer: UserId,
        code: &ReferralCode,
        claim_key: &str,
        trial_key: &str,
        offer: ReferralOffer,
        now: OffsetDateTime,
    ) -> Result<ReferralJoin, StoreError> {
        let mut tx = self.begin_write().await?;
        let owner = sqlx::query("SELECT user_id FROM referral_codes WHERE code = $1")
            .bind(code.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        let Some(owner) = owner else {
            return Ok(ReferralJoin::UnknownCode);
        };
        let referrer = UserId(owner.try_get("user_id")?);
        if referrer == newcomer {
            return Ok(ReferralJoin::SelfReferral);
        }
        let had_trial = sqlx::query("SELECT claim_key FROM trial_claims WHERE claim_key = $1")
            .bind(trial_key)
            .fetch_optional(&mut *tx)
            .await?;
        if had_trial.is_some() {
            return Ok(ReferralJoin::NotNewcomer);
        }
        let claimed = sqlx::query(
            "INSERT INTO referral_claims (claim_key, claimed_at) VALUES ($1, $2) \
             ON CONFLICT (claim_key) DO NOTHING",
        )
        .bind(claim_key)
        .bind(unix_seconds(now))
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() == 0 {
            return Ok(ReferralJoin::NotNewcomer);
        }
        let linked = sqlx::query(
            "INSERT INTO referrals (newcomer_id, referrer_id, joined_at, reward_days, \
             welcome_days) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (newcomer_id) DO NOTHING",
        )
        .bind(newcomer.0)
        .bind(referrer.0)
        .bind(unix_seconds(now))
        .bind(i64::from(offer.reward_days.0))
        .bind(i64::from(offer.welcome_days.0))
        .execute(&mut *tx)
        .await
        .map_err(missing_user)?;
        if linked.rows_affected() == 0 {
            return Ok(ReferralJoin::NotNewcomer);
        }
        // A newcomer who already paid (impossible through the bot, which links at sign-up)
        // is not rewarded for it later.
        let paid = sqlx::query(
            "SELECT id FROM payments WHERE user_id = $1 AND status IN ('succeeded', 'refunded') \
             LIMIT 1",
        )
        .bind(newcomer.0)
        .fetch_optional(&mut *tx)
        .await?;
        if paid.is_some() {
            return Ok(ReferralJoin::NotNewcomer);
        }
        tx.commit().await?;
        Ok(ReferralJoin::Joined)
    }

    /// How many joined through `referrer`'s link, and how many of them paid.
    pub async fn referral_stats(&self, referrer: UserId) -> Result<ReferralStats, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS joined, COUNT(rewarded_at) AS paid FROM referrals \
             WHERE referrer_id = $1",
        )
        .bind(referrer.0)
        .fetch_one(&self.pool)
        .await?;
        let count = |name: &str| -> Result<u64, StoreError> {
            let n: i64 = row.try_get(name)?;
            Ok(u64::try_from(n).unwrap_or(0))
        };
        Ok(ReferralStats {
            joined: count("joined")?,
            paid: count("paid")?,
        })
    }

    /// The person's referral data, for their export.
    pub async fn referral_export(&self, user: UserId) -> Result<ReferralExport, StoreError> {
        let code = sqlx::query("SELECT code FROM referral_codes WHERE user_id = $1")
            .bind(user.0)
            .fetch_optional(&self.pool)
            .await?
            .map(|row| row.try_get::<String, _>("code"))
            .transpose()?;
        let referred = sqlx::query(
            "SELECT joined_at, rewarded_at, welcome_days FROM referrals WHERE newcomer_id = $1",
        )
        .bind(user.0)
        .fetch_optional(&self.pool)
        .await?;
        let referred = match referred {
            Some(row) => {
                let rewarded_at: Option<i64> = row.try_get("rewarded_at")?;
                Some(ReferredExport {
                    joined_at: from_unix_seconds(row.try_get("joined_at")?),
                    rewarded_at: rewarded_at.map(from_unix_seconds),
                    welcome_days: days_from(row.try_get("welcome_days")?, "referrals")?.0,
                })
            }
            None => None,
        };
        Ok(ReferralExport {
            code,
            stats: self.referral_stats(user).await?,
            referred,
        })
    }
}

/// Inside the transaction that credits a payment of `payer`: if they joined through a link and
/// were not rewarded yet, marks the referral rewarded (one conditional update, so exactly once)
/// and grants the offered days to the referrer and the newcomer.
pub(crate) async fn reward_referral_in(
    tx: &mut Transaction<'static, Any>,
    payer: UserId,
    now: OffsetDateTime,
) -> Result<Option<ReferralRewarded>, StoreError> {
    let row = sqlx::query(
        "UPDATE referrals SET rewarded_at = $1 WHERE newcomer_id = $2 AND rewarded_at IS NULL \
         RETURNING referrer_id, reward_days, welcome_days",
    )
    .bind(unix_seconds(now))
    .bind(payer.0)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let rewarded = ReferralRewarded {
        referrer: UserId(row.try_get("referrer_id")?),
        reward_days: days_from(row.try_get("reward_days")?, "referrals.reward_days")?,
        welcome_days: days_from(row.try_get("welcome_days")?, "referrals.welcome_days")?,
    };
    for (user, days) in [
        (rewarded.referrer, rewarded.reward_days),
        (payer, rewarded.welcome_days),
    ] {
        if days.0 > 0 {
            let plan = current_plan_in(tx, user).await?;
            grant_in(tx, user, plan, days, now).await?;
        }
    }
    Ok(Some(rewarded))
}

/// The plan of the person's current period, so bonus days do not rename it; "referral" if none.
async fn current_plan_in(
    tx: &mut Transaction<'static, Any>,
    user: UserId,
) -> Result<PlanId, StoreError> {
    let row = sqlx::query("SELECT plan FROM subscriptions WHERE user_id = $1")
        .bind(user.0)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(PlanId(match row {
        Some(row) => row.try_get("plan")?,
        None => REFERRAL_PLAN_ID.to_owned(),
    }))
}
