//! The free trial: `[trial] days`, once per Telegram id, ever, even across erasure. The caller
//! passes an opaque claim key (a keyed hash of the Telegram id), never the id itself.

use domain::{Days, Subscription, User};
use time::OffsetDateTime;

use crate::{App, AppError};

/// What asking for the trial did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrialResult {
    Granted(Subscription),
    /// This Telegram id took the trial before.
    AlreadyUsed,
    /// The operator turned the trial off (`[trial] days = 0`).
    Disabled,
    /// The operator blocked the person.
    Blocked,
}

impl App {
    /// Whether the operator offers a trial at all.
    pub fn trial_days(&self) -> Option<Days> {
        let days = self.settings().trial_days;
        (days > 0).then_some(Days(days))
    }

    pub async fn claim_trial(
        &self,
        claim_key: &str,
        user: &User,
        now: OffsetDateTime,
    ) -> Result<TrialResult, AppError> {
        let Some(days) = self.trial_days() else {
            return Ok(TrialResult::Disabled);
        };
        if user.blocked {
            return Ok(TrialResult::Blocked);
        }
        Ok(
            match self
                .store()
                .claim_trial(claim_key, user.id, days, now)
                .await?
            {
                store::TrialOutcome::Granted(sub) => TrialResult::Granted(sub),
                store::TrialOutcome::AlreadyUsed => TrialResult::AlreadyUsed,
            },
        )
    }
}
