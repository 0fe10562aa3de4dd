//! The person's rights from the bot: see everything stored (one JSON document, support messages
//! included), correct the email, and erase the account (also what withdrawing consent does).

use domain::{Email, User, UserId, UserRef};

use crate::{App, AppError};

impl App {
    /// Everything stored about the person (profile, consent, subscription, payments, support
    /// messages), the same document `milly user export` writes.
    pub async fn export_everything(&self, user: UserId) -> Result<serde_json::Value, AppError> {
        self.export(UserRef(user.0)).await
    }

    /// Sets, changes or (with `None`) removes the person's email.
    pub async fn set_email(&self, user: &User, email: Option<&Email>) -> Result<(), AppError> {
        Ok(self.store().set_email(user.id, email).await?)
    }

    /// Erases the person as [`App::delete`] does (account, conversation, tickets, reminders;
    /// payments stay unlinked). Access ends on every node with the next feed.
    pub async fn erase_person(&self, user: UserId) -> Result<(), AppError> {
        self.delete(UserRef(user.0)).await
    }
}
