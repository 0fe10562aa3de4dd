//! The account link: on request the bot asks for a short-lived link to the person's data page
//! on the website (download, email, deletion). The subscription URL opens only the
//! subscription, since it is pasted into apps and shared; this link is the website's only key
//! to the person's data rights.

use domain::{AccountLinkToken, User, UserId, ACCOUNT_LINK_LIFETIME_MINUTES};
use time::{Duration, OffsetDateTime};

use crate::{App, AppError};

/// The website path an account link opens, followed by the token.
pub const ACCOUNT_LINK_PATH: &str = "/account/";

/// A freshly issued link, to be given to its person only.
#[derive(Clone, PartialEq, Eq)]
pub struct AccountLink {
    /// `{public_url}/account/{token}`.
    pub url: String,
    pub expires_at: OffsetDateTime,
}

/// The URL holds the secret: `{:?}` shows only when it expires.
impl std::fmt::Debug for AccountLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountLink")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// How long a link lives.
pub fn account_link_lifetime() -> Duration {
    Duration::minutes(i64::from(ACCOUNT_LINK_LIFETIME_MINUTES))
}

impl App {
    /// Issues a new link for `user`, revoking their older ones.
    pub async fn issue_account_link(
        &self,
        user: UserId,
        now: OffsetDateTime,
    ) -> Result<AccountLink, AppError> {
        let token = AccountLinkToken::generate();
        let expires_at = now + account_link_lifetime();
        match self
            .store()
            .issue_account_link(user, &token.hash(), now, expires_at)
            .await
        {
            Ok(()) => {}
            Err(store::StoreError::UserNotFound) => return Err(AppError::UserNotFound),
            Err(err) => return Err(err.into()),
        }
        let url = self
            .settings()
            .public_url
            .join_path(&format!("{ACCOUNT_LINK_PATH}{}", token.as_str()));
        Ok(AccountLink { url, expires_at })
    }

    /// The person `token` (as it came in a URL) opens at `now`; `None` for anything malformed,
    /// unknown, revoked or expired — the caller cannot and need not tell them apart.
    pub async fn account_link_owner(
        &self,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<Option<User>, AppError> {
        let Ok(token) = token.parse::<AccountLinkToken>() else {
            return Ok(None);
        };
        Ok(self.store().account_link_owner(&token.hash(), now).await?)
    }

    /// Revokes every account link of `user` (none is left working).
    pub async fn revoke_account_links(&self, user: UserId) -> Result<(), AppError> {
        self.store().revoke_account_links(user).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AppSettings;

    use store::testing::TestDb;

    async fn app(db: &TestDb) -> App {
        let settings = AppSettings {
            public_url: "https://vpn.example/".parse().unwrap(),
            ..AppSettings::default()
        };
        App::new(db.store.clone(), settings)
    }

    fn token_of(link: &AccountLink) -> &str {
        link.url.rsplit('/').next().unwrap_or_default()
    }

    #[tokio::test]
    async fn a_link_opens_its_person_for_its_lifetime_and_a_new_one_replaces_it() {
        let db = TestDb::sqlite().await;
        let app = app(&db).await;
        let now = OffsetDateTime::now_utc();
        let user = db.user(5, now).await;
        let first = app.issue_account_link(user.id, now).await.unwrap();
        assert!(
            first.url.starts_with("https://vpn.example/account/"),
            "{first:?}"
        );
        assert!(!format!("{first:?}").contains(token_of(&first)));
        assert_eq!(first.expires_at, now + Duration::minutes(15));
        let opened = app.account_link_owner(token_of(&first), now).await.unwrap();
        assert_eq!(opened.map(|u| u.id), Some(user.id));
        let expired = app
            .account_link_owner(token_of(&first), first.expires_at)
            .await
            .unwrap();
        assert!(expired.is_none());

        let second = app.issue_account_link(user.id, now).await.unwrap();
        assert!(app
            .account_link_owner(token_of(&first), now)
            .await
            .unwrap()
            .is_none());
        assert!(app
            .account_link_owner(token_of(&second), now)
            .await
            .unwrap()
            .is_some());
        app.revoke_account_links(user.id).await.unwrap();
        assert!(app
            .account_link_owner(token_of(&second), now)
            .await
            .unwrap()
            .is_none());
    }

    #[tokio::test]
    async fn malformed_tokens_and_unknown_people_are_refused() {
        let db = TestDb::sqlite().await;
        let app = app(&db).await;
        let now = OffsetDateTime::now_utc();
        for token in ["", "short", "../../etc/passwd"] {
            assert!(app.account_link_owner(token, now).await.unwrap().is_none());
        }
        let refused = app.issue_account_link(UserId(999), now).await;
        assert!(
            matches!(refused, Err(AppError::UserNotFound)),
            "{refused:?}"
        );
    }
}
