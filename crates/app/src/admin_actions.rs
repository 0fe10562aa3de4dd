//! What an admin does in the web panel, each change recorded in the audit list (who, what,
//! which internal id, when; nothing else about the person), and what the panel reads: the
//! dashboard, a person by Telegram id or @username, pages of payments and of the audit list.

use domain::{AdminAction, Days, Payment, PaymentId, TelegramId, UserId, UserRef};
use store::{AuditEntry, AuditTarget, DailyRevenue};
use time::{Duration, OffsetDateTime};

use crate::card_payments::{PaymentError, RefundOutcome};
use crate::{App, AppError, UserCounts, UserView};

/// Days of revenue the dashboard shows.
pub const DASHBOARD_REVENUE_DAYS: i64 = 30;

/// The panel's first page.
#[derive(Debug, Clone)]
pub struct Dashboard {
    pub counts: UserCounts,
    /// People on a trial that has not ended.
    pub trials: i64,
    /// Succeeded payments per day and provider over [`DASHBOARD_REVENUE_DAYS`], newest first.
    pub revenue: Vec<DailyRevenue>,
    /// Remote nodes that reported lately, and all nodes.
    pub nodes_online: usize,
    pub nodes: usize,
}

impl App {
    /// The dashboard at `now`.
    pub async fn admin_dashboard(&self, now: OffsetDateTime) -> Result<Dashboard, AppError> {
        let counts = self.user_counts(now).await?;
        let trials = self.store().active_trials(now).await?;
        let revenue = self
            .store()
            .revenue_by_day(now - Duration::days(DASHBOARD_REVENUE_DAYS))
            .await?;
        let nodes = self.node_overview().await?;
        Ok(Dashboard {
            counts,
            trials,
            revenue,
            nodes_online: nodes.iter().filter(|n| n.online == Some(true)).count(),
            nodes: nodes.len(),
        })
    }

    /// The person an admin searched for: digits are a Telegram id (or, failing that, an
    /// internal id), anything else an @username.
    pub async fn admin_find_user(&self, query: &str) -> Result<Option<domain::User>, AppError> {
        let query = query.trim();
        if let Ok(number) = query.parse::<i64>() {
            if let Some(user) = self.store().user_by_telegram(TelegramId(number)).await? {
                return Ok(Some(user));
            }
            return Ok(self.store().find_user(UserRef(number)).await?);
        }
        let username = query.trim_start_matches('@');
        if username.is_empty() {
            return Ok(None);
        }
        Ok(self.store().user_by_username(username).await?)
    }

    /// A page of payments, newest first.
    pub async fn payments_page(&self, offset: u32, limit: u32) -> Result<Vec<Payment>, AppError> {
        Ok(self.store().payments_page(offset, limit).await?)
    }

    /// Up to `limit` audit entries older than entry `before`, newest first.
    pub async fn audit_entries(
        &self,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, AppError> {
        Ok(self.store().audit_entries(before, limit).await?)
    }

    async fn audit(
        &self,
        admin: TelegramId,
        action: AdminAction,
        target: AuditTarget,
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        Ok(self
            .store()
            .record_audit(now, admin, action, Some(target))
            .await?)
    }

    /// [`App::extend`] by an admin, audited.
    pub async fn admin_extend(
        &self,
        admin: TelegramId,
        user: UserId,
        days: Days,
        now: OffsetDateTime,
    ) -> Result<UserView, AppError> {
        let view = self.extend(UserRef(user.0), days, now).await?;
        self.audit(
            admin,
            AdminAction::ExtendUser,
            AuditTarget::User(user.0),
            now,
        )
        .await?;
        Ok(view)
    }

    /// [`App::set_blocked`] by an admin, audited.
    pub async fn admin_set_blocked(
        &self,
        admin: TelegramId,
        user: UserId,
        blocked: bool,
        now: OffsetDateTime,
    ) -> Result<UserView, AppError> {
        self.user(user).await?;
        let view = self.set_blocked(UserRef(user.0), blocked, now).await?;
        let action = if blocked {
            AdminAction::BlockUser
        } else {
            AdminAction::UnblockUser
        };
        self.audit(admin, action, AuditTarget::User(user.0), now)
            .await?;
        Ok(view)
    }

    /// Erases a person on an admin's word, audited (by internal id only, which no longer
    /// opens anything once the person is gone).
    pub async fn admin_delete(
        &self,
        admin: TelegramId,
        user: UserId,
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        self.user(user).await?;
        self.erase_person(user).await?;
        self.audit(
            admin,
            AdminAction::DeleteUser,
            AuditTarget::User(user.0),
            now,
        )
        .await
    }

    /// Everything stored about a person, for an admin, audited.
    pub async fn admin_export(
        &self,
        admin: TelegramId,
        user: UserId,
        now: OffsetDateTime,
    ) -> Result<serde_json::Value, AppError> {
        self.user(user).await?;
        let document = self.export_everything(user).await?;
        self.audit(
            admin,
            AdminAction::ExportUser,
            AuditTarget::User(user.0),
            now,
        )
        .await?;
        Ok(document)
    }

    /// [`App::refund_payment`] by an admin, audited once the provider gave the money back.
    pub async fn admin_refund(
        &self,
        admin: TelegramId,
        payment: PaymentId,
        now: OffsetDateTime,
    ) -> Result<RefundOutcome, PaymentError> {
        let outcome = self.refund_payment(payment, now).await?;
        self.audit(
            admin,
            AdminAction::RefundPayment,
            AuditTarget::Payment(payment.0),
            now,
        )
        .await?;
        Ok(outcome)
    }

    /// [`App::add_remote_node`] by an admin, audited.
    pub async fn admin_add_remote_node(
        &self,
        admin: TelegramId,
        plan: &crate::RemoteNodePlan,
        now: OffsetDateTime,
    ) -> Result<crate::Registered, AppError> {
        let registered = self.add_remote_node(plan).await?;
        self.audit(
            admin,
            AdminAction::AddNode,
            AuditTarget::Node(registered.node.spec.id.0),
            now,
        )
        .await?;
        Ok(registered)
    }

    /// [`App::set_node_enabled`] by an admin, audited.
    pub async fn admin_set_node_enabled(
        &self,
        admin: TelegramId,
        name: &str,
        enabled: bool,
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        let node = self
            .node_overview()
            .await?
            .into_iter()
            .find(|n| n.record.spec.name == name)
            .ok_or_else(|| AppError::NodeNotFound(name.to_owned()))?;
        self.set_node_enabled(name, enabled).await?;
        let action = if enabled {
            AdminAction::EnableNode
        } else {
            AdminAction::DisableNode
        };
        self.audit(admin, action, AuditTarget::Node(node.record.spec.id.0), now)
            .await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::AppSettings;
    use store::testing::TestDb;

    #[tokio::test]
    async fn each_action_leaves_one_audit_entry_naming_only_internal_ids() {
        let db = TestDb::sqlite().await;
        let app = App::new(db.store.clone(), AppSettings::default());
        let now = OffsetDateTime::now_utc();
        let user = db.user(555_000_111, now).await;
        let admin = TelegramId(100);
        app.admin_extend(admin, user.id, Days(5), now)
            .await
            .unwrap();
        app.admin_set_blocked(admin, user.id, true, now)
            .await
            .unwrap();
        app.admin_export(admin, user.id, now).await.unwrap();
        app.admin_delete(admin, user.id, now).await.unwrap();
        let entries = app.audit_entries(None, 10).await.unwrap();
        let actions: Vec<AdminAction> = entries.iter().map(|e| e.action).collect();
        assert_eq!(
            actions,
            vec![
                AdminAction::DeleteUser,
                AdminAction::ExportUser,
                AdminAction::BlockUser,
                AdminAction::ExtendUser
            ]
        );
        assert!(entries
            .iter()
            .all(|e| e.admin == admin && e.target == Some(AuditTarget::User(user.id.0))));
        let missing = app.admin_delete(admin, user.id, now).await;
        assert!(matches!(missing, Err(AppError::UserNotFound)));
        assert_eq!(app.audit_entries(None, 10).await.unwrap().len(), 4);
    }

    #[tokio::test]
    async fn people_are_found_by_telegram_id_internal_id_or_username() {
        let db = TestDb::sqlite().await;
        let app = App::new(db.store.clone(), AppSettings::default());
        let now = OffsetDateTime::now_utc();
        let user = db
            .store
            .create_user(&store::testing::someone::new_user(now), now)
            .await
            .unwrap();
        let tg = store::testing::someone::TELEGRAM_ID.to_string();
        let by_tg = app.admin_find_user(&tg).await.unwrap();
        assert_eq!(by_tg.map(|u| u.id), Some(user.id));
        let by_id = app.admin_find_user(&user.id.0.to_string()).await.unwrap();
        assert_eq!(by_id.map(|u| u.id), Some(user.id));
        let name = format!("@{}", store::testing::someone::USERNAME.to_uppercase());
        let by_name = app.admin_find_user(&name).await.unwrap();
        assert_eq!(by_name.map(|u| u.id), Some(user.id));
        assert!(app.admin_find_user("@").await.unwrap().is_none());
        assert!(app.admin_find_user("nobody_here").await.unwrap().is_none());
    }
}
