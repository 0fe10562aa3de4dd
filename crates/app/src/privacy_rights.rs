//! The person's rights from the bot and the website: see everything stored (one JSON document, support messages
//! included), correct the email, and erase the account (also what withdrawing consent does).

use domain::{Email, User, UserId};

use crate::{App, AppError};

impl App {
    /// Everything stored about the person (profile, consent, subscription, payments, support
    /// messages), the same document `milly user export` writes.
    /// Takes the internal id, never a [`UserRef`]: a front end that knows whose data it is
    /// must not have the id re-read as a possible Telegram id of someone else.
    pub async fn export_everything(&self, user: UserId) -> Result<serde_json::Value, AppError> {
        let export = self
            .store()
            .export_user(user)
            .await?
            .ok_or(AppError::UserNotFound)?;
        serde_json::to_value(&export).map_err(|e| AppError::Export(e.to_string()))
    }

    /// Sets, changes or (with `None`) removes the person's email.
    pub async fn set_email(&self, user: &User, email: Option<&Email>) -> Result<(), AppError> {
        Ok(self.store().set_email(user.id, email).await?)
    }

    /// Erases the person as [`App::delete`] does (account, conversation, tickets, reminders;
    /// payments stay unlinked). Access ends on every node with the next feed.
    pub async fn erase_person(&self, user: UserId) -> Result<(), AppError> {
        if self.store().user(user).await?.is_none() {
            return Err(AppError::UserNotFound);
        }
        Ok(self.store().erase_user(user).await?)
    }
}
