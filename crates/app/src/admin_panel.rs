//! Signing in to the admin web panel: the bot's `/admin` gives an admin a one-time login link
//! ([`App::issue_admin_login`]), whose sign-in button opens a session ([`App::admin_sign_in`]);
//! every request checks the session and that its admin is still in `[telegram] admins`
//! ([`App::admin_session`]). Tokens are random and stored only as hashes.

use domain::{
    AdminAction, AdminToken, TelegramId, ADMIN_LOGIN_LIFETIME_MINUTES, ADMIN_SESSION_IDLE_HOURS,
    ADMIN_SESSION_MAX_DAYS,
};
use time::{Duration, OffsetDateTime};

use crate::{App, AppError};

/// The website path of the login link; the token follows as `?t=`.
pub const ADMIN_LOGIN_PATH: &str = "/admin/login";

/// A login link for one admin, to be sent to them only.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminLoginLink {
    /// `{public_url}/admin/login?t={token}`.
    pub url: String,
    pub expires_at: OffsetDateTime,
}

/// The URL holds the secret: `{:?}` shows only when it expires.
impl std::fmt::Debug for AdminLoginLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminLoginLink")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A signed-in admin: the secret for their cookie and who they are.
#[derive(Debug, Clone)]
pub struct AdminSession {
    pub token: AdminToken,
    pub admin: TelegramId,
    pub expires_at: OffsetDateTime,
}

/// How long a session may sit unused before it ends.
pub fn admin_session_idle() -> Duration {
    Duration::hours(i64::from(ADMIN_SESSION_IDLE_HOURS))
}

impl App {
    /// A one-time login link for the admin `telegram_id`, valid
    /// [`ADMIN_LOGIN_LIFETIME_MINUTES`]; refused for anyone not in `[telegram] admins`.
    pub async fn issue_admin_login(
        &self,
        telegram_id: TelegramId,
        now: OffsetDateTime,
    ) -> Result<AdminLoginLink, AppError> {
        if !self.is_admin(telegram_id) {
            return Err(AppError::NotAdmin);
        }
        let token = AdminToken::generate();
        let expires_at = now + Duration::minutes(i64::from(ADMIN_LOGIN_LIFETIME_MINUTES));
        self.store()
            .issue_admin_login(&token.hash(), telegram_id, now, expires_at)
            .await?;
        let url = self
            .settings()
            .public_url
            .join_path(&format!("{ADMIN_LOGIN_PATH}?t={}", token.as_str()));
        Ok(AdminLoginLink { url, expires_at })
    }

    /// Uses a login link: a new session for its admin, or `None` when the link is malformed,
    /// unknown, expired or used, or its admin is no longer in `[telegram] admins`. The link is
    /// spent either way.
    pub async fn admin_sign_in(
        &self,
        link_token: &str,
        now: OffsetDateTime,
    ) -> Result<Option<AdminSession>, AppError> {
        let Ok(link) = link_token.parse::<AdminToken>() else {
            return Ok(None);
        };
        let Some(admin) = self.store().claim_admin_login(&link.hash(), now).await? else {
            return Ok(None);
        };
        if !self.is_admin(admin) {
            return Ok(None);
        }
        let token = AdminToken::generate();
        let expires_at = now + Duration::days(i64::from(ADMIN_SESSION_MAX_DAYS));
        self.store()
            .create_admin_session(&token.hash(), admin, now, expires_at)
            .await?;
        self.store()
            .record_audit(now, admin, AdminAction::SignIn, None)
            .await?;
        Ok(Some(AdminSession {
            token,
            admin,
            expires_at,
        }))
    }

    /// The admin a session cookie belongs to, keeping the session alive; `None` when it is
    /// malformed, unknown, signed out, idle too long, past its end, or its admin was removed
    /// from `[telegram] admins`.
    pub async fn admin_session(
        &self,
        cookie: &str,
        now: OffsetDateTime,
    ) -> Result<Option<TelegramId>, AppError> {
        let Ok(token) = cookie.parse::<AdminToken>() else {
            return Ok(None);
        };
        let admin = self
            .store()
            .touch_admin_session(&token.hash(), now, now - admin_session_idle())
            .await?;
        Ok(admin.filter(|admin| self.is_admin(*admin)))
    }

    /// Ends the session of `token` (sign-out) and records it.
    pub async fn admin_sign_out(
        &self,
        token: &AdminToken,
        admin: TelegramId,
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        if self.store().end_admin_session(&token.hash()).await? {
            self.store()
                .record_audit(now, admin, AdminAction::SignOut, None)
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::AppSettings;
    use store::testing::TestDb;

    fn app(db: &TestDb) -> App {
        let settings = AppSettings {
            public_url: "https://vpn.example/".parse().unwrap(),
            admins: vec![100],
            ..AppSettings::default()
        };
        App::new(db.store.clone(), settings)
    }

    fn token_of(link: &AdminLoginLink) -> &str {
        link.url.rsplit("?t=").next().unwrap_or_default()
    }

    #[tokio::test]
    async fn a_login_link_opens_one_session_once_within_ten_minutes() {
        let db = TestDb::sqlite().await;
        let app = app(&db);
        let now = OffsetDateTime::now_utc();
        let link = app.issue_admin_login(TelegramId(100), now).await.unwrap();
        assert!(link.url.starts_with("https://vpn.example/admin/login?t="));
        assert!(!format!("{link:?}").contains(token_of(&link)));
        let late = app.issue_admin_login(TelegramId(100), now).await.unwrap();
        let session = app
            .admin_sign_in(token_of(&link), now)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(session.admin, TelegramId(100));
        assert!(app
            .admin_sign_in(token_of(&link), now)
            .await
            .unwrap()
            .is_none());
        let stale = now + Duration::minutes(10);
        assert!(app
            .admin_sign_in(token_of(&late), stale)
            .await
            .unwrap()
            .is_none());
        assert_eq!(
            app.admin_session(session.token.as_str(), now)
                .await
                .unwrap(),
            Some(TelegramId(100))
        );
        app.admin_sign_out(&session.token, session.admin, now)
            .await
            .unwrap();
        assert!(app
            .admin_session(session.token.as_str(), now)
            .await
            .unwrap()
            .is_none());
    }

    #[tokio::test]
    async fn strangers_get_no_link_and_a_removed_admin_loses_their_session() {
        let db = TestDb::sqlite().await;
        let app = app(&db);
        let now = OffsetDateTime::now_utc();
        let refused = app.issue_admin_login(TelegramId(7), now).await;
        assert!(matches!(refused, Err(AppError::NotAdmin)), "{refused:?}");
        let link = app.issue_admin_login(TelegramId(100), now).await.unwrap();
        let session = app
            .admin_sign_in(token_of(&link), now)
            .await
            .unwrap()
            .unwrap();
        let demoted = App::new(db.store.clone(), AppSettings::default());
        assert!(demoted
            .admin_session(session.token.as_str(), now)
            .await
            .unwrap()
            .is_none());
        let idle = now + admin_session_idle();
        assert!(app
            .admin_session(session.token.as_str(), idle)
            .await
            .unwrap()
            .is_none());
        for junk in ["", "x", "../../etc"] {
            assert!(app.admin_session(junk, now).await.unwrap().is_none());
            assert!(app.admin_sign_in(junk, now).await.unwrap().is_none());
        }
    }
}
