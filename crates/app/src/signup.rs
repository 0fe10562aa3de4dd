//! Signing up from Telegram: an account exists only once the person agreed to the privacy
//! policy, and names follow what Telegram says whenever the person writes.

use domain::{Language, NewUser, TelegramId, User};
use time::OffsetDateTime;

use crate::{App, AppError};

/// What Telegram delivers about a person with each update.
#[derive(Clone, PartialEq, Eq)]
pub struct TelegramProfile {
    pub telegram_id: TelegramId,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
}

/// Names are personal data: `{:?}` shows nothing about the person.
impl std::fmt::Debug for TelegramProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelegramProfile").finish_non_exhaustive()
    }
}

impl App {
    /// Creates the person's account at the moment they agree, recording when. Agreeing twice
    /// (a double tap, a redelivered update) returns the account made the first time.
    pub async fn sign_up(
        &self,
        profile: &TelegramProfile,
        language: Language,
        now: OffsetDateTime,
    ) -> Result<User, AppError> {
        if let Some(user) = self.store().user_by_telegram(profile.telegram_id).await? {
            return Ok(user);
        }
        let new = NewUser {
            telegram_id: profile.telegram_id,
            first_name: profile.first_name.clone(),
            last_name: profile.last_name.clone(),
            username: profile.username.clone(),
            language,
            consent_at: Some(now),
        };
        match self.store().create_user(&new, now).await {
            Ok(user) => Ok(user),
            Err(store::StoreError::TelegramIdTaken) => self
                .store()
                .user_by_telegram(profile.telegram_id)
                .await?
                .ok_or(AppError::UserNotFound),
            Err(err) => Err(err.into()),
        }
    }

    /// Keeps names in step with Telegram and notes that the person used the service.
    pub async fn refresh_profile(
        &self,
        user: &User,
        profile: &TelegramProfile,
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        let changed = user.first_name != profile.first_name
            || user.last_name != profile.last_name
            || user.username != profile.username;
        if changed {
            self.store()
                .update_profile(
                    user.id,
                    &profile.first_name,
                    profile.last_name.as_deref(),
                    profile.username.as_deref(),
                    user.language,
                )
                .await?;
        }
        self.store().touch_last_seen(user.id, now).await?;
        Ok(())
    }

    /// Switches the language the bot speaks to the person.
    pub async fn set_language(&self, user: &User, language: Language) -> Result<(), AppError> {
        self.store()
            .update_profile(
                user.id,
                &user.first_name,
                user.last_name.as_deref(),
                user.username.as_deref(),
                language,
            )
            .await?;
        Ok(())
    }
}
