//! What the admin panel reads beyond the bot's stats: people by @username, a page of payments,
//! trial counts and revenue per day and provider.

use domain::{unix_seconds, Currency, Money, Payment, Provider, User, TRIAL_PLAN_ID};
use sqlx::Row as _;
use time::OffsetDateTime;

use crate::payments::{payment_from_row, PAYMENT_COLUMNS};
use crate::users::{user_from_row, USER_COLUMNS};
use crate::{Store, StoreError};

/// Succeeded payments of one day (UTC), provider and currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyRevenue {
    /// Days since 1970-01-01 (UTC).
    pub day: i64,
    pub provider: Provider,
    pub total: Money,
    pub payments: i64,
}

impl Store {
    /// The person whose Telegram @username is `username` (without `@`, any case).
    pub async fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE LOWER(users.username) = LOWER($1) \
             ORDER BY users.id LIMIT 1"
        );
        let row = sqlx::query(&sql)
            .bind(username)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// A page of payments, newest first.
    pub async fn payments_page(&self, offset: u32, limit: u32) -> Result<Vec<Payment>, StoreError> {
        let sql =
            format!("SELECT {PAYMENT_COLUMNS} FROM payments ORDER BY id DESC LIMIT $1 OFFSET $2");
        let rows = sqlx::query(&sql)
            .bind(i64::from(limit))
            .bind(i64::from(offset))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(payment_from_row).collect()
    }

    /// People on a trial that has not ended at `now`.
    pub async fn active_trials(&self, now: OffsetDateTime) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS trials FROM subscriptions WHERE plan = $1 AND ends_at > $2",
        )
        .bind(TRIAL_PLAN_ID)
        .bind(unix_seconds(now))
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("trials")?)
    }

    /// Succeeded payments created at or after `since`, summed per day, provider and currency,
    /// newest day first.
    pub async fn revenue_by_day(
        &self,
        since: OffsetDateTime,
    ) -> Result<Vec<DailyRevenue>, StoreError> {
        let rows = sqlx::query(
            // PostgreSQL sums BIGINT as NUMERIC, which the Any driver cannot read: cast back.
            "SELECT created_at / 86400 AS day, provider, currency, \
             CAST(SUM(amount_minor) AS BIGINT) AS total, COUNT(*) AS payments \
             FROM payments WHERE status = 'succeeded' AND created_at >= $1 \
             GROUP BY created_at / 86400, provider, currency \
             ORDER BY day DESC, provider, currency",
        )
        .bind(unix_seconds(since))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let provider: String = row.try_get("provider")?;
                let currency: String = row.try_get("currency")?;
                Ok(DailyRevenue {
                    day: row.try_get("day")?,
                    provider: Provider::from_code(&provider)
                        .ok_or(StoreError::Corrupt("payments.provider"))?,
                    total: Money {
                        minor: row.try_get("total")?,
                        currency: Currency::from_code(&currency)
                            .ok_or(StoreError::Corrupt("payments.currency"))?,
                    },
                    payments: row.try_get("payments")?,
                })
            })
            .collect()
    }
}
