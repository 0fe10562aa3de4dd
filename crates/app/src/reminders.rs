//! Which reminders are due: one a few days before a subscription ends (the leads, e.g. 3 and 1
//! days) and one when it has ended. Each is claimed before it is sent, so none goes out twice,
//! even across restarts; extending a subscription moves its end, which arms them again.

use domain::User;
use time::OffsetDateTime;

use crate::{App, AppError};

/// The kind recorded for the reminder sent when a subscription has ended.
const ENDED: &str = "ended";
/// How late an "ended" reminder may still go out (after downtime, say).
const ENDED_GRACE: time::Duration = time::Duration::days(1);

/// What a reminder tells the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReminderKind {
    /// The subscription ends in this many days (rounded up, at least one).
    DaysLeft(u32),
    /// The subscription has ended.
    Ended,
}

/// A reminder due for a person the bot may message; send it only after [`App::claim_reminder`]
/// said yes.
#[derive(Debug, Clone)]
pub struct DueReminder {
    pub user: User,
    pub ends_at: OffsetDateTime,
    pub kind: ReminderKind,
    /// What claiming records: every lead whose window the end falls in, so a longer lead never
    /// follows a shorter one.
    claims: Vec<String>,
}

impl App {
    /// The reminders due at `now` with reminders `leads` days before the end (zeros ignored),
    /// soonest end first, the "ended" ones last. People blocked by the operator or who blocked
    /// the bot are left out.
    pub async fn reminders_due(
        &self,
        leads: &[u32],
        now: OffsetDateTime,
    ) -> Result<Vec<DueReminder>, AppError> {
        let mut leads: Vec<u32> = leads.iter().copied().filter(|d| *d > 0).collect();
        leads.sort_unstable();
        let mut due = Vec::new();
        if let Some(longest) = leads.last().copied() {
            let horizon = now + time::Duration::days(i64::from(longest));
            for (user, sub) in self.store().subscriptions_ending(now, horizon).await? {
                let left = sub.ends_at - now;
                let claims: Vec<String> = leads
                    .iter()
                    .rev()
                    .filter(|lead| left <= time::Duration::days(i64::from(**lead)))
                    .map(|lead| format!("{lead}d"))
                    .collect();
                if claims.is_empty() {
                    continue;
                }
                let days_left = u32::try_from((left.whole_hours() + 23) / 24)
                    .unwrap_or(1)
                    .max(1);
                due.push(DueReminder {
                    user,
                    ends_at: sub.ends_at,
                    kind: ReminderKind::DaysLeft(days_left),
                    claims,
                });
            }
        }
        let ended = self
            .store()
            .subscriptions_ending(now - ENDED_GRACE, now)
            .await?;
        due.extend(ended.into_iter().map(|(user, sub)| DueReminder {
            user,
            ends_at: sub.ends_at,
            kind: ReminderKind::Ended,
            claims: vec![ENDED.to_owned()],
        }));
        Ok(due)
    }

    /// Records the reminder as sent; `true` if it was not sent before (send it now), `false`
    /// if an earlier run did.
    pub async fn claim_reminder(
        &self,
        reminder: &DueReminder,
        now: OffsetDateTime,
    ) -> Result<bool, AppError> {
        let mut claimed = false;
        for kind in &reminder.claims {
            claimed |= self
                .store()
                .claim_reminder(reminder.user.id, kind, reminder.ends_at, now)
                .await?;
        }
        Ok(claimed)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::AppSettings;

    use store::testing::TestDb;
    use time::Duration;

    use super::*;

    async fn person_ending_in(db: &TestDb, id: i64, left: Duration, now: OffsetDateTime) -> User {
        // A subscription of one day started so that it ends `left` from now.
        let start = now + left - Duration::days(1);
        let user = db.user(id, start).await;
        db.grant(user.id, "m", 1, start).await;
        user
    }

    async fn kinds_sent(app: &App, leads: &[u32], now: OffsetDateTime) -> Vec<ReminderKind> {
        let mut sent = Vec::new();
        for reminder in app.reminders_due(leads, now).await.unwrap() {
            if app.claim_reminder(&reminder, now).await.unwrap() {
                sent.push(reminder.kind);
            }
        }
        sent
    }

    #[tokio::test]
    async fn a_reminder_says_the_days_left_rounded_up_and_goes_out_once() {
        let db = TestDb::sqlite().await;
        let app = App::new(db.store.clone(), AppSettings::default());
        let now = OffsetDateTime::now_utc();
        person_ending_in(&db, 41, Duration::hours(30), now).await;
        assert_eq!(
            kinds_sent(&app, &[3, 1], now).await,
            vec![ReminderKind::DaysLeft(2)]
        );
        assert!(kinds_sent(&app, &[3, 1], now).await.is_empty());
        // Inside the one-day lead it is due again, once.
        let later = now + Duration::hours(8);
        assert_eq!(
            kinds_sent(&app, &[3, 1], later).await,
            vec![ReminderKind::DaysLeft(1)]
        );
        assert!(kinds_sent(&app, &[3, 1], later).await.is_empty());
    }

    #[tokio::test]
    async fn a_shorter_lead_never_follows_when_the_first_reminder_was_already_the_shorter_one() {
        let db = TestDb::sqlite().await;
        let app = App::new(db.store.clone(), AppSettings::default());
        let now = OffsetDateTime::now_utc();
        person_ending_in(&db, 42, Duration::hours(5), now).await;
        assert_eq!(
            kinds_sent(&app, &[1, 3, 0], now).await,
            vec![ReminderKind::DaysLeft(1)]
        );
        assert!(kinds_sent(&app, &[1], now + Duration::hours(1))
            .await
            .is_empty());
    }

    #[tokio::test]
    async fn an_ended_subscription_is_told_once_within_a_day_even_without_leads() {
        let db = TestDb::sqlite().await;
        let app = App::new(db.store.clone(), AppSettings::default());
        let now = OffsetDateTime::now_utc();
        person_ending_in(&db, 43, -Duration::hours(2), now).await;
        person_ending_in(&db, 44, -Duration::hours(30), now).await;
        assert_eq!(kinds_sent(&app, &[], now).await, vec![ReminderKind::Ended]);
        assert!(kinds_sent(&app, &[3, 1], now).await.is_empty());
    }

    #[tokio::test]
    async fn nobody_the_bot_may_not_message_is_reminded() {
        let db = TestDb::sqlite().await;
        let app = App::new(db.store.clone(), AppSettings::default());
        let now = OffsetDateTime::now_utc();
        let blocked = person_ending_in(&db, 45, Duration::hours(5), now).await;
        db.store.set_blocked(blocked.id, true).await.unwrap();
        let gone_quiet = person_ending_in(&db, 46, Duration::hours(5), now).await;
        app.note_bot_blocked(gone_quiet.id).await.unwrap();
        assert!(app.reminders_due(&[3, 1], now).await.unwrap().is_empty());
    }
}
