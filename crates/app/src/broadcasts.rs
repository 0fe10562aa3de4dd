//! Broadcasts as jobs: an admin starts one (web panel or the bot's `/broadcast`), audited; the
//! bot's leader sends it one person at a time, claiming each by moving the job's cursor first,
//! so a restart resumes where it stopped and nobody gets it twice (at most once: a crash right
//! after the claim skips that one person).

use domain::{
    AdminAction, BroadcastAudience, BroadcastOutcome, TelegramId, User, BROADCAST_MAX_CHARS,
};
use store::{AuditTarget, Broadcast};
use time::OffsetDateTime;

use crate::{App, AppError};

/// Whom the next message of a broadcast goes to.
#[derive(Debug, Clone)]
pub enum BroadcastRecipient {
    Person(User),
    /// A preview: the admin's own chat.
    Admin(TelegramId),
}

impl App {
    /// Starts a broadcast of `body` to `audience` for the admin `admin`, audited; a preview
    /// goes to the admin alone.
    pub async fn start_broadcast(
        &self,
        admin: TelegramId,
        audience: BroadcastAudience,
        body: &str,
        now: OffsetDateTime,
    ) -> Result<Broadcast, AppError> {
        let body = body.trim();
        if body.is_empty() || body.chars().count() > BROADCAST_MAX_CHARS {
            return Err(AppError::BadBroadcast);
        }
        let recipients = match audience {
            BroadcastAudience::Preview => 1,
            other => self.store().count_audience(other, now).await?,
        };
        let job = self
            .store()
            .create_broadcast(now, admin, audience, body, recipients)
            .await?;
        let action = match audience {
            BroadcastAudience::Preview => AdminAction::PreviewBroadcast,
            _ => AdminAction::SendBroadcast,
        };
        self.store()
            .record_audit(now, admin, action, Some(AuditTarget::Broadcast(job.id)))
            .await?;
        Ok(job)
    }

    pub async fn broadcast(&self, id: i64) -> Result<Option<Broadcast>, AppError> {
        Ok(self.store().broadcast(id).await?)
    }

    pub async fn recent_broadcasts(&self, limit: u32) -> Result<Vec<Broadcast>, AppError> {
        Ok(self.store().recent_broadcasts(limit).await?)
    }

    /// The oldest broadcast still to send, if any.
    pub async fn next_broadcast(&self) -> Result<Option<Broadcast>, AppError> {
        Ok(self.store().next_unfinished_broadcast().await?)
    }

    /// Claims the next recipient of broadcast `id` (moving its cursor past them), or finishes
    /// the broadcast and answers `None` when nobody is left.
    pub async fn claim_broadcast_recipient(
        &self,
        id: i64,
        now: OffsetDateTime,
    ) -> Result<Option<BroadcastRecipient>, AppError> {
        loop {
            let Some(job) = self.store().broadcast(id).await? else {
                return Ok(None);
            };
            if job.finished_at.is_some() {
                return Ok(None);
            }
            let next = match job.audience {
                BroadcastAudience::Preview => (job.cursor.0 == 0)
                    .then_some((domain::UserId(1), BroadcastRecipient::Admin(job.admin))),
                audience => self
                    .store()
                    .next_in_audience(audience, job.cursor, now)
                    .await?
                    .map(|user| (user.id, BroadcastRecipient::Person(user))),
            };
            let Some((to, recipient)) = next else {
                self.store().finish_broadcast(id, now).await?;
                return Ok(None);
            };
            if self.store().advance_broadcast(id, job.cursor, to).await? {
                return Ok(Some(recipient));
            }
        }
    }

    /// Counts one message of broadcast `id` by what became of it.
    pub async fn count_broadcast_message(
        &self,
        id: i64,
        outcome: BroadcastOutcome,
    ) -> Result<(), AppError> {
        Ok(self.store().count_broadcast_message(id, outcome).await?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::AppSettings;
    use store::testing::{card_payment, TestDb};
    use time::Duration;

    async fn recipients(app: &App, id: i64, now: OffsetDateTime) -> Vec<i64> {
        let mut out = Vec::new();
        while let Some(r) = app.claim_broadcast_recipient(id, now).await.unwrap() {
            match r {
                BroadcastRecipient::Person(u) => out.push(u.telegram_id.0),
                BroadcastRecipient::Admin(a) => out.push(-a.0),
            }
        }
        out
    }

    #[tokio::test]
    async fn each_audience_gets_its_people_once_in_id_order_and_a_preview_only_its_admin() {
        let db = TestDb::sqlite().await;
        let app = App::new(db.store.clone(), AppSettings::default());
        let now = OffsetDateTime::now_utc();
        let active = db.subscriber(1, "month", 30, now).await;
        let expired = db.user(2, now).await;
        db.grant(expired.id, "month", 1, now - Duration::days(5))
            .await;
        let never = db.user(3, now).await;
        let blocked = db.user(4, now).await;
        db.store.set_blocked(blocked.id, true).await.unwrap();
        db.paid(&card_payment(active.id, Some("yk-1"), now)).await;
        let _ = never;
        let admin = TelegramId(100);
        let cases = [
            (BroadcastAudience::All, vec![1, 2, 3]),
            (BroadcastAudience::Active, vec![1]),
            (BroadcastAudience::Expired, vec![2]),
            (BroadcastAudience::NeverPaid, vec![2, 3]),
            (BroadcastAudience::Preview, vec![-100]),
        ];
        for (audience, expected) in cases {
            let job = app
                .start_broadcast(admin, audience, " hi ", now)
                .await
                .unwrap();
            assert_eq!(job.body, "hi");
            assert_eq!(job.recipients, expected.len() as i64, "{audience:?}");
            assert_eq!(
                recipients(&app, job.id, now).await,
                expected,
                "{audience:?}"
            );
            let done = app.broadcast(job.id).await.unwrap().unwrap();
            assert!(done.finished_at.is_some());
            assert!(app
                .claim_broadcast_recipient(job.id, now)
                .await
                .unwrap()
                .is_none());
        }
        assert!(app.next_broadcast().await.unwrap().is_none());
        let audit = app.audit_entries(None, 10).await.unwrap();
        assert_eq!(audit.len(), 5);
        assert_eq!(audit[0].action, AdminAction::PreviewBroadcast);
        assert!(matches!(
            app.start_broadcast(admin, BroadcastAudience::All, "  ", now)
                .await,
            Err(AppError::BadBroadcast)
        ));
    }

    #[tokio::test]
    async fn a_restarted_runner_resumes_after_the_last_person_claimed() {
        let db = TestDb::sqlite().await;
        let app = App::new(db.store.clone(), AppSettings::default());
        let now = OffsetDateTime::now_utc();
        for id in 1..=3 {
            db.user(id, now).await;
        }
        let job = app
            .start_broadcast(TelegramId(100), BroadcastAudience::All, "news", now)
            .await
            .unwrap();
        assert!(app
            .claim_broadcast_recipient(job.id, now)
            .await
            .unwrap()
            .is_some());
        // The process stops here; the next leader picks the job up where it was.
        let again = App::new(db.store.clone(), AppSettings::default());
        let pending = again.next_broadcast().await.unwrap().unwrap();
        assert_eq!(pending.id, job.id);
        assert_eq!(recipients(&again, job.id, now).await, vec![2, 3]);
    }
}
