//! Plans the operator sells, as configured in `[[plans]]`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Days, Money};

/// The plan id recorded on subscriptions granted by the free trial.
pub const TRIAL_PLAN_ID: &str = "trial";

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PlanId(pub String);

impl fmt::Display for PlanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub id: PlanId,
    pub days: Days,
    /// Price for card payments through YooKassa; `None` means not sold for roubles.
    pub price_rub: Option<Money>,
    /// Price in Telegram Stars; `None` means not sold for Stars.
    pub price_stars: Option<Money>,
}
