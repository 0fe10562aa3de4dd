//! Who may use the VPN right now.

use time::OffsetDateTime;

use crate::{Subscription, User};

/// Why a user has no access; for the operator's and the user's eyes, never for node logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessDenied {
    Blocked,
    NoSubscription,
    Expired,
}

/// A blocked user has no access whatever their subscription; otherwise access lasts until the
/// subscription's end.
pub fn has_access(
    user: &User,
    subscription: Option<&Subscription>,
    now: OffsetDateTime,
) -> Result<(), AccessDenied> {
    if user.blocked {
        return Err(AccessDenied::Blocked);
    }
    match subscription {
        None => Err(AccessDenied::NoSubscription),
        Some(sub) if sub.is_active(now) => Ok(()),
        Some(_) => Err(AccessDenied::Expired),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Days, Language, PlanId, TelegramId, UserId};
    use time::macros::datetime;

    fn user(blocked: bool) -> User {
        User {
            id: UserId(1),
            telegram_id: TelegramId(42),
            first_name: "A".into(),
            last_name: None,
            username: None,
            email: None,
            language: Language::En,
            consent_at: None,
            blocked,
            created_at: datetime!(2026-01-01 00:00 UTC),
        }
    }

    #[test]
    fn a_blocked_user_has_no_access_whatever_their_subscription() {
        let now = datetime!(2026-01-02 00:00 UTC);
        let sub = Subscription::start(UserId(1), PlanId("m".into()), Days(30), now).unwrap();
        assert_eq!(
            has_access(&user(true), Some(&sub), now),
            Err(AccessDenied::Blocked)
        );
        assert_eq!(has_access(&user(false), Some(&sub), now), Ok(()));
    }

    #[test]
    fn no_or_expired_subscription_means_no_access() {
        let now = datetime!(2026-03-01 00:00 UTC);
        let sub = Subscription::start(
            UserId(1),
            PlanId("m".into()),
            Days(30),
            datetime!(2026-01-01 00:00 UTC),
        )
        .unwrap();
        assert_eq!(
            has_access(&user(false), None, now),
            Err(AccessDenied::NoSubscription)
        );
        assert_eq!(
            has_access(&user(false), Some(&sub), now),
            Err(AccessDenied::Expired)
        );
    }
}
