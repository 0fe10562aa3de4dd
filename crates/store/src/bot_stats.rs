//! Revenue for the operator's statistics: sums of succeeded payments per currency, nothing about
//! any one person and nothing about traffic.

use domain::{unix_seconds, Currency, Money};
use sqlx::Row as _;
use time::OffsetDateTime;

use crate::{Store, StoreError};

impl Store {
    /// Succeeded payments created at or after `since`: the sum per currency and the count.
    pub async fn revenue_since(
        &self,
        since: OffsetDateTime,
    ) -> Result<Vec<(Money, i64)>, StoreError> {
        let rows = sqlx::query(
            // PostgreSQL sums BIGINT as NUMERIC, which the Any driver cannot read: cast back.
            "SELECT currency, CAST(SUM(amount_minor) AS BIGINT) AS total, COUNT(*) AS payments \
             FROM payments \
             WHERE status = 'succeeded' AND created_at >= $1 GROUP BY currency ORDER BY currency",
        )
        .bind(unix_seconds(since))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let currency: String = row.try_get("currency")?;
                let currency = Currency::from_code(&currency)
                    .ok_or(StoreError::Corrupt("payments.currency"))?;
                Ok((
                    Money {
                        minor: row.try_get("total")?,
                        currency,
                    },
                    row.try_get("payments")?,
                ))
            })
            .collect()
    }
}
