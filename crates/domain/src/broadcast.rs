//! Broadcasts: a message from an admin to a group of people, sent by the bot at Telegram's
//! pace as a job that survives restarts.

/// Who a broadcast is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BroadcastAudience {
    /// Everyone the bot may message.
    All,
    /// Those whose subscription has not ended.
    Active,
    /// Those who had a subscription that has ended.
    Expired,
    /// Those without a successful payment.
    NeverPaid,
    /// Only the admin who wrote it, to see how it reads.
    Preview,
}

impl BroadcastAudience {
    /// The audiences a broadcast can be sent to (a preview goes to its admin only).
    pub const SENDABLE: [BroadcastAudience; 4] = [
        BroadcastAudience::All,
        BroadcastAudience::Active,
        BroadcastAudience::Expired,
        BroadcastAudience::NeverPaid,
    ];

    /// The stored and typed name.
    pub fn code(self) -> &'static str {
        match self {
            BroadcastAudience::All => "all",
            BroadcastAudience::Active => "active",
            BroadcastAudience::Expired => "expired",
            BroadcastAudience::NeverPaid => "never_paid",
            BroadcastAudience::Preview => "preview",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::SENDABLE
            .into_iter()
            .chain([BroadcastAudience::Preview])
            .find(|a| a.code() == code)
    }

    /// How the panel names it.
    pub fn label(self) -> &'static str {
        match self {
            BroadcastAudience::All => "everyone",
            BroadcastAudience::Active => "active subscribers",
            BroadcastAudience::Expired => "expired subscribers",
            BroadcastAudience::NeverPaid => "people who never paid",
            BroadcastAudience::Preview => "preview to yourself",
        }
    }
}

/// The longest broadcast text (Telegram's limit for one message).
pub const BROADCAST_MAX_CHARS: usize = 4096;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_audience_round_trips_through_its_code() {
        for a in BroadcastAudience::SENDABLE {
            assert_eq!(BroadcastAudience::from_code(a.code()), Some(a));
        }
        assert_eq!(
            BroadcastAudience::from_code("preview"),
            Some(BroadcastAudience::Preview)
        );
        assert_eq!(BroadcastAudience::from_code("everyone"), None);
    }
}
