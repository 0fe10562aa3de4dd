//! Broadcasts: a message from an admin to a group of people, sent by the bot at Telegram's
//! pace as a job that survives restarts.

/// Days back an "expired in the last N days" audience looks, 1..=365.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExpiredDays(u16);

impl ExpiredDays {
    pub const MAX: u16 = 365;

    pub fn new(days: i64) -> Option<Self> {
        u16::try_from(days)
            .ok()
            .filter(|d| (1..=Self::MAX).contains(d))
            .map(Self)
    }

    pub fn get(self) -> u16 {
        self.0
    }
}

/// Who a broadcast is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BroadcastAudience {
    /// Everyone the bot may message.
    All,
    /// Those whose subscription has not ended.
    Active,
    /// Those who had a subscription that has ended (at any time).
    Expired,
    /// Those whose subscription ended within the last N days.
    ExpiredWithin(ExpiredDays),
    /// Those who took the free trial and never paid.
    TrialOnly,
    /// Those without a successful payment.
    NeverPaid,
    /// Only the admin who wrote it, to see how it reads.
    Preview,
}

impl BroadcastAudience {
    /// The audiences named by a word alone (`/broadcast WORD TEXT`); "expired in the last N
    /// days" also needs its N.
    pub const BY_WORD: [BroadcastAudience; 5] = [
        BroadcastAudience::All,
        BroadcastAudience::Active,
        BroadcastAudience::Expired,
        BroadcastAudience::TrialOnly,
        BroadcastAudience::NeverPaid,
    ];

    /// The stored and typed name.
    pub fn code(self) -> &'static str {
        match self {
            BroadcastAudience::All => "all",
            BroadcastAudience::Active => "active",
            BroadcastAudience::Expired => "expired",
            BroadcastAudience::ExpiredWithin(_) => EXPIRED_WITHIN,
            BroadcastAudience::TrialOnly => "trial_only",
            BroadcastAudience::NeverPaid => "never_paid",
            BroadcastAudience::Preview => "preview",
        }
    }

    /// The N of "expired in the last N days", stored beside the code.
    pub fn days(self) -> Option<ExpiredDays> {
        match self {
            BroadcastAudience::ExpiredWithin(days) => Some(days),
            _ => None,
        }
    }

    /// A sendable audience or a preview from its word alone.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::BY_WORD
            .into_iter()
            .chain([BroadcastAudience::Preview])
            .find(|a| a.code() == code)
    }

    /// An audience from its code and, for "expired in the last N days", its N (ignored for
    /// the others); `None` when the code is unknown or N is missing or out of range.
    pub fn from_parts(code: &str, days: Option<i64>) -> Option<Self> {
        if code == EXPIRED_WITHIN {
            return days
                .and_then(ExpiredDays::new)
                .map(BroadcastAudience::ExpiredWithin);
        }
        Self::from_code(code)
    }

    /// How the panel and the bot name it.
    pub fn label(self) -> String {
        match self {
            BroadcastAudience::All => "everyone".into(),
            BroadcastAudience::Active => "active subscribers".into(),
            BroadcastAudience::Expired => "expired subscribers".into(),
            BroadcastAudience::ExpiredWithin(days) => {
                format!("expired in the last {} days", days.get())
            }
            BroadcastAudience::TrialOnly => "trial only, never paid".into(),
            BroadcastAudience::NeverPaid => "people who never paid".into(),
            BroadcastAudience::Preview => "preview to yourself".into(),
        }
    }
}

/// The code of "expired in the last N days".
pub const EXPIRED_WITHIN: &str = "expired_within";

/// What became of one broadcast message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BroadcastOutcome {
    Delivered,
    /// Telegram answered 403: the person blocked the bot or deleted their account.
    BlockedBot,
    /// Anything else (a vanished chat, Telegram unavailable after retries, ...).
    Failed,
}

/// The longest broadcast text (Telegram's limit for one message).
pub const BROADCAST_MAX_CHARS: usize = 4096;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_audience_round_trips_through_its_code_and_days() {
        for a in BroadcastAudience::BY_WORD {
            assert_eq!(BroadcastAudience::from_code(a.code()), Some(a));
            assert_eq!(BroadcastAudience::from_parts(a.code(), Some(7)), Some(a));
        }
        assert_eq!(
            BroadcastAudience::from_code("preview"),
            Some(BroadcastAudience::Preview)
        );
        assert_eq!(BroadcastAudience::from_code("everyone"), None);
        let week = BroadcastAudience::from_parts("expired_within", Some(7)).unwrap();
        assert_eq!(week.days().map(ExpiredDays::get), Some(7));
        assert_eq!(
            BroadcastAudience::from_parts(week.code(), Some(7)),
            Some(week)
        );
        assert_eq!(week.label(), "expired in the last 7 days");
    }

    #[test]
    fn expired_within_needs_days_from_1_to_365() {
        for bad in [None, Some(0), Some(-1), Some(366), Some(70_000)] {
            assert_eq!(BroadcastAudience::from_parts("expired_within", bad), None);
        }
        assert!(BroadcastAudience::from_parts("expired_within", Some(1)).is_some());
        assert!(BroadcastAudience::from_parts("expired_within", Some(365)).is_some());
        assert_eq!(BroadcastAudience::from_code("expired_within"), None);
    }
}
