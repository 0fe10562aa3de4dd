//! Subscriptions and the rules for extending them.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::{PlanId, UserId};

/// A whole number of days of access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Days(pub u32);

impl Days {
    /// Longest single grant accepted: ten years. Guards against typos like `--days 36500000`.
    pub const MAX: Days = Days(3650);

    pub fn duration(self) -> Duration {
        Duration::days(i64::from(self.0))
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SubscriptionError {
    #[error("the number of days must be between 1 and {}", Days::MAX.0)]
    DaysOutOfRange,
}

/// The current subscription of a user: one continuous period of access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    pub user_id: UserId,
    /// The plan of the most recent grant.
    pub plan: PlanId,
    /// When the current continuous period started.
    #[serde(with = "time::serde::rfc3339")]
    pub activated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub ends_at: OffsetDateTime,
}

impl Subscription {
    pub fn is_active(&self, now: OffsetDateTime) -> bool {
        self.ends_at > now
    }

    /// A first subscription for a user who has none.
    pub fn start(
        user_id: UserId,
        plan: PlanId,
        days: Days,
        now: OffsetDateTime,
    ) -> Result<Self, SubscriptionError> {
        check_days(days)?;
        Ok(Self {
            user_id,
            plan,
            activated_at: now,
            ends_at: now + days.duration(),
        })
    }

    /// Extends by `days`: an active subscription keeps its remaining time and gains the new
    /// days on top; an expired one starts a new period from `now`.
    pub fn extend(
        &self,
        plan: PlanId,
        days: Days,
        now: OffsetDateTime,
    ) -> Result<Self, SubscriptionError> {
        check_days(days)?;
        if self.is_active(now) {
            Ok(Self {
                plan,
                ends_at: self.ends_at + days.duration(),
                ..self.clone()
            })
        } else {
            Self::start(self.user_id, plan, days, now)
        }
    }

    /// Extends `existing` if there is one, otherwise starts a new subscription.
    pub fn grant(
        existing: Option<&Subscription>,
        user_id: UserId,
        plan: PlanId,
        days: Days,
        now: OffsetDateTime,
    ) -> Result<Self, SubscriptionError> {
        match existing {
            Some(sub) => sub.extend(plan, days, now),
            None => Self::start(user_id, plan, days, now),
        }
    }
}

fn check_days(days: Days) -> Result<(), SubscriptionError> {
    if days.0 == 0 || days > Days::MAX {
        return Err(SubscriptionError::DaysOutOfRange);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn plan() -> PlanId {
        PlanId("month".into())
    }

    /// A month of access from 2026-01-01 to 2026-01-31.
    fn january() -> Subscription {
        Subscription {
            user_id: UserId(1),
            plan: plan(),
            activated_at: datetime!(2026-01-01 00:00 UTC),
            ends_at: datetime!(2026-01-31 00:00 UTC),
        }
    }

    #[test]
    fn extending_an_active_subscription_adds_to_its_end_date() {
        let now = datetime!(2026-01-10 12:00 UTC);
        let sub = january();
        let extended = sub.extend(plan(), Days(30), now).unwrap();
        assert_eq!(extended.ends_at, datetime!(2026-03-02 00:00 UTC));
        assert_eq!(
            extended.activated_at, sub.activated_at,
            "the period continues"
        );
    }

    #[test]
    fn extending_an_expired_subscription_starts_from_now() {
        let now = datetime!(2026-05-10 12:00 UTC);
        let sub = january();
        let extended = sub.extend(plan(), Days(30), now).unwrap();
        assert_eq!(extended.activated_at, now);
        assert_eq!(extended.ends_at, datetime!(2026-06-09 12:00 UTC));
    }

    #[test]
    fn a_subscription_ending_exactly_now_is_expired() {
        let now = datetime!(2026-01-31 00:00 UTC);
        let sub = Subscription::start(UserId(1), plan(), Days(1), now - Duration::days(1)).unwrap();
        assert!(!sub.is_active(now));
    }

    #[test]
    fn zero_or_absurd_day_counts_are_refused() {
        let now = datetime!(2026-01-01 00:00 UTC);
        assert_eq!(
            Subscription::start(UserId(1), plan(), Days(0), now),
            Err(SubscriptionError::DaysOutOfRange)
        );
        assert_eq!(
            Subscription::start(UserId(1), plan(), Days(3651), now),
            Err(SubscriptionError::DaysOutOfRange)
        );
    }

    #[test]
    fn granting_without_a_subscription_starts_one() {
        let now = datetime!(2026-01-01 00:00 UTC);
        let sub = Subscription::grant(None, UserId(7), plan(), Days(30), now).unwrap();
        assert_eq!(sub.activated_at, now);
        assert_eq!(sub.ends_at, datetime!(2026-01-31 00:00 UTC));
    }
}
