//! Signing in on the website with Telegram: the login data Telegram signed (the Login Widget's
//! fields, from its redirect flow or a `login_url` button) is checked with the bot token
//! (`domain::telegram_login`), and only someone who already has an account (agreed to the policy
//! in the bot) gets a session; nothing is stored for anyone else. A session is random, kept as
//! a hash, lasts at most [`WEB_SESSION_DAYS`], and each signed login opens one session only.

use std::collections::BTreeMap;

use domain::telegram_login::{self, LoginRefused};
use domain::{UserId, WebSessionToken, WEB_SESSION_DAYS};
use time::{Duration, OffsetDateTime};

use crate::{App, AppError};

/// The website path Telegram's login returns to (its data in the query or, from the redirect
/// flow, in the fragment as `#tgAuthResult=`).
pub const WEB_LOGIN_RETURN_PATH: &str = "/login/telegram";

/// What a sign-in attempt came to.
#[derive(Debug)]
pub enum WebSignIn {
    /// A new session: its secret goes into the cookie.
    Signed(WebSession),
    /// Correctly signed, but this Telegram account has no account here: the person agrees to
    /// the policy in the bot first. Nothing was stored.
    NoAccount,
    /// The data was not Telegram's, was stale, or this signed login was used already.
    Refused,
}

/// A signed-in person's session.
#[derive(Debug, Clone)]
pub struct WebSession {
    pub token: WebSessionToken,
    pub user: UserId,
    pub expires_at: OffsetDateTime,
}

impl App {
    /// Telegram's login page for this site (`oauth.telegram.org/auth`, the Login Widget's own
    /// redirect flow without its script), returning to [`WEB_LOGIN_RETURN_PATH`]; `None` when
    /// the bot token names no bot.
    pub fn web_login_url(&self) -> Option<String> {
        let settings = self.settings();
        let bot_id = telegram_login::bot_id(settings.bot_api.token.expose())?;
        let origin = settings.public_url.as_str();
        let origin = origin
            .find("://")
            .and_then(|at| origin[at + 3..].find('/').map(|slash| at + 3 + slash))
            .map_or(origin, |end| &origin[..end]);
        let return_to = settings.public_url.join_path(WEB_LOGIN_RETURN_PATH);
        Some(format!(
            "https://oauth.telegram.org/auth?bot_id={bot_id}&origin={}&return_to={}",
            encode(origin),
            encode(&return_to)
        ))
    }

    /// Checks Telegram's login `fields` at `now` and opens a session for their account.
    pub async fn web_sign_in(
        &self,
        fields: &BTreeMap<String, String>,
        now: OffsetDateTime,
    ) -> Result<WebSignIn, AppError> {
        let settings = self.settings();
        let login = match telegram_login::verify(fields, settings.bot_api.token.expose(), now) {
            Ok(login) => login,
            Err(LoginRefused::Malformed | LoginRefused::BadSignature | LoginRefused::Stale) => {
                return Ok(WebSignIn::Refused)
            }
        };
        let Some(user) = self.store().user_by_telegram(login.telegram_id).await? else {
            return Ok(WebSignIn::NoAccount);
        };
        let token = WebSessionToken::generate();
        let expires_at = now + Duration::days(i64::from(WEB_SESSION_DAYS));
        let created = match self
            .store()
            .create_web_session(
                &token.hash(),
                user.id,
                &login.signature_digest,
                now,
                expires_at,
            )
            .await
        {
            Ok(created) => created,
            // Erased between the lookup and the insert.
            Err(store::StoreError::UserNotFound) => return Ok(WebSignIn::NoAccount),
            Err(err) => return Err(err.into()),
        };
        if !created {
            return Ok(WebSignIn::Refused);
        }
        Ok(WebSignIn::Signed(WebSession {
            token,
            user: user.id,
            expires_at,
        }))
    }

    /// Whose session the cookie `cookie` is at `now`; `None` when it is malformed, unknown,
    /// signed out or past its end.
    pub async fn web_session(
        &self,
        cookie: &str,
        now: OffsetDateTime,
    ) -> Result<Option<UserId>, AppError> {
        let Ok(token) = cookie.parse::<WebSessionToken>() else {
            return Ok(None);
        };
        Ok(self.store().web_session_owner(&token.hash(), now).await?)
    }

    /// Ends the session of `token` at `now` (sign-out).
    pub async fn web_sign_out(
        &self,
        token: &WebSessionToken,
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        self.store().end_web_session(&token.hash(), now).await?;
        Ok(())
    }
}

/// Percent-encoding for a query value.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::AppSettings;
    use billing::telegram_stars::BotApi;
    use domain::Secret;
    use store::testing::TestDb;

    const TOKEN: &str = "777000:test-bot-token";

    fn app(db: &TestDb) -> App {
        let settings = AppSettings {
            public_url: "https://vpn.example/".parse().unwrap(),
            bot_api: BotApi {
                api_url: String::new(),
                token: Secret::new(TOKEN.to_owned()),
            },
            ..AppSettings::default()
        };
        App::new(db.store.clone(), settings)
    }

    fn login(id: i64, at: OffsetDateTime) -> BTreeMap<String, String> {
        let mut fields = BTreeMap::from([
            ("id".to_owned(), id.to_string()),
            ("first_name".to_owned(), "Anna".to_owned()),
            ("auth_date".to_owned(), at.unix_timestamp().to_string()),
        ]);
        let hash = telegram_login::sign(&fields, TOKEN);
        fields.insert("hash".into(), hash);
        fields
    }

    #[tokio::test]
    async fn a_customer_signs_in_once_per_login_and_out_again() {
        let db = TestDb::sqlite().await;
        let app = app(&db);
        let now = OffsetDateTime::now_utc();
        let user = db.user(4242, now).await;
        let data = login(4242, now);
        let WebSignIn::Signed(session) = app.web_sign_in(&data, now).await.unwrap() else {
            unreachable!("not signed in");
        };
        assert_eq!(session.user, user.id);
        assert_eq!(
            app.web_session(session.token.as_str(), now).await.unwrap(),
            Some(user.id)
        );
        // The same signed data again (a replay) opens nothing.
        assert!(matches!(
            app.web_sign_in(&data, now).await.unwrap(),
            WebSignIn::Refused
        ));
        app.web_sign_out(&session.token, now).await.unwrap();
        assert_eq!(
            app.web_session(session.token.as_str(), now).await.unwrap(),
            None
        );
        assert!(matches!(
            app.web_sign_in(&data, now).await.unwrap(),
            WebSignIn::Refused
        ));
    }

    #[tokio::test]
    async fn strangers_forgeries_and_stale_logins_get_no_session() {
        let db = TestDb::sqlite().await;
        let app = app(&db);
        let now = OffsetDateTime::now_utc();
        db.user(4242, now).await;
        assert!(matches!(
            app.web_sign_in(&login(99, now), now).await.unwrap(),
            WebSignIn::NoAccount
        ));
        let mut forged = login(4242, now);
        forged.insert("id".into(), "4243".into());
        assert!(matches!(
            app.web_sign_in(&forged, now).await.unwrap(),
            WebSignIn::Refused
        ));
        let old = login(4242, now - Duration::days(2));
        assert!(matches!(
            app.web_sign_in(&old, now).await.unwrap(),
            WebSignIn::Refused
        ));
        for junk in ["", "x", "../../etc"] {
            assert_eq!(app.web_session(junk, now).await.unwrap(), None);
        }
    }

    #[tokio::test]
    async fn the_login_url_names_the_bot_origin_and_return_page() {
        let db = TestDb::sqlite().await;
        assert_eq!(
            app(&db).web_login_url().unwrap(),
            "https://oauth.telegram.org/auth?bot_id=777000&origin=https%3A%2F%2Fvpn.example\
             &return_to=https%3A%2F%2Fvpn.example%2Flogin%2Ftelegram"
        );
        let no_bot = App::new(db.store.clone(), AppSettings::default());
        assert_eq!(no_bot.web_login_url(), None);
    }
}
