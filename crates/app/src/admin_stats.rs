//! What the operator may see and who counts as one in the bot: aggregate counts and revenue,
//! never anything about one person's traffic.

use domain::{Money, TelegramId};
use time::OffsetDateTime;

use crate::{App, AppError};

pub use store::Stats as UserCounts;

/// The periods revenue is summed over in the bot's `/stats`: a label and its length in days.
pub const REVENUE_PERIODS: [(&str, i64); 3] = [("24 hours", 1), ("30 days", 30), ("365 days", 365)];

/// Revenue over one period: a sum per currency and how many payments made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revenue {
    pub label: &'static str,
    pub sums: Vec<(Money, i64)>,
}

/// The operator's statistics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminStats {
    pub counts: UserCounts,
    /// One entry per [`REVENUE_PERIODS`], in that order.
    pub revenue: Vec<Revenue>,
}

impl App {
    /// Whether the Telegram account is one of the operator's (`[telegram] admins`).
    pub fn is_admin(&self, telegram_id: TelegramId) -> bool {
        self.settings().admins.contains(&telegram_id.0)
    }

    /// Where support questions go: the support chat if the operator set one, else each
    /// admin's private chat.
    pub fn support_chats(&self) -> Vec<i64> {
        let settings = self.settings();
        if settings.support_chat_id != 0 {
            vec![settings.support_chat_id]
        } else {
            settings.admins.clone()
        }
    }

    /// Users, active subscriptions and blocked users at `now`.
    pub async fn user_counts(&self, now: OffsetDateTime) -> Result<UserCounts, AppError> {
        Ok(self.store().stats(now).await?)
    }

    /// The counts and the revenue over each of [`REVENUE_PERIODS`] up to `now`.
    pub async fn admin_stats(&self, now: OffsetDateTime) -> Result<AdminStats, AppError> {
        let counts = self.user_counts(now).await?;
        let mut revenue = Vec::with_capacity(REVENUE_PERIODS.len());
        for (label, days) in REVENUE_PERIODS {
            let since = now - time::Duration::days(days);
            let sums = self.store().revenue_since(since).await?;
            revenue.push(Revenue { label, sums });
        }
        Ok(AdminStats { counts, revenue })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::AppSettings;

    use store::testing::TestDb;

    use super::*;

    #[tokio::test]
    async fn only_configured_admins_are_admins_and_support_goes_to_them_without_a_support_chat() {
        let db = TestDb::sqlite().await;
        let mut settings = AppSettings {
            admins: vec![100, 200],
            ..AppSettings::default()
        };
        let app = App::new(db.store.clone(), settings.clone());
        assert!(app.is_admin(TelegramId(100)));
        assert!(!app.is_admin(TelegramId(300)));
        assert_eq!(app.support_chats(), vec![100, 200]);
        settings.support_chat_id = -42;
        let app = App::new(db.store.clone(), settings);
        assert_eq!(app.support_chats(), vec![-42]);
    }

    #[tokio::test]
    async fn stats_of_an_empty_service_have_every_period_and_no_revenue() {
        let db = TestDb::sqlite().await;
        let app = App::new(db.store.clone(), AppSettings::default());
        let stats = app.admin_stats(OffsetDateTime::now_utc()).await.unwrap();
        assert_eq!(stats.counts.users, 0);
        let labels: Vec<&str> = stats.revenue.iter().map(|r| r.label).collect();
        assert_eq!(labels, vec!["24 hours", "30 days", "365 days"]);
        assert!(stats.revenue.iter().all(|r| r.sums.is_empty()));
    }
}
