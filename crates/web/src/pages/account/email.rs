//! `POST /account/{token}/email`: sets, changes or removes the person's email, then sends them
//! back to their data page with a notice.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Form;
use domain::Email;
use serde::Deserialize;

use crate::error::WebError;
use crate::lang::RequestLang;
use crate::pages::subscription::in_steady_time;
use crate::site::Site;

use super::{back_to_page, EmailNotice};

/// The email form: `action=remove` removes the email; anything else saves `email`.
#[derive(Debug, Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    action: String,
}

/// What the form asks for, once read.
#[derive(Debug, PartialEq, Eq)]
enum Change {
    Set(Email),
    Remove,
    Invalid,
}

impl EmailForm {
    fn change(&self) -> Change {
        if self.action == "remove" {
            return Change::Remove;
        }
        self.email.parse().map_or(Change::Invalid, Change::Set)
    }
}

pub async fn update(
    State(site): State<Site>,
    Path(token): Path<String>,
    lang: RequestLang,
    headers: HeaderMap,
    Form(form): Form<EmailForm>,
) -> Result<Response, WebError> {
    if !super::from_this_site(&headers) {
        return Err(WebError::CrossSite);
    }
    in_steady_time(answer(&site, &token, lang, &form)).await
}

async fn answer(
    site: &Site,
    token: &str,
    lang: RequestLang,
    form: &EmailForm,
) -> Result<Response, WebError> {
    let owner = super::owner(site, token).await?;
    // A blocked person's data is kept but not processed beyond what the law requires.
    if owner.user.blocked {
        return Ok(back_to_page(token, EmailNotice::Blocked, lang));
    }
    let notice = match form.change() {
        Change::Set(email) => {
            owner.app.set_email(&owner.user, Some(&email)).await?;
            EmailNotice::Saved
        }
        Change::Remove => {
            owner.app.set_email(&owner.user, None).await?;
            EmailNotice::Removed
        }
        Change::Invalid => EmailNotice::Invalid,
    };
    Ok(back_to_page(token, notice, lang))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(email: &str, action: &str) -> EmailForm {
        EmailForm {
            email: email.into(),
            action: action.into(),
        }
    }

    #[test]
    fn the_remove_button_removes_whatever_is_typed() {
        assert_eq!(form("a@b.example", "remove").change(), Change::Remove);
    }

    #[test]
    fn saving_checks_the_address_shape() {
        assert_eq!(
            form(" a@b.example ", "save").change(),
            Change::Set("a@b.example".parse().unwrap())
        );
        assert_eq!(form("not an email", "save").change(), Change::Invalid);
        assert_eq!(form("", "").change(), Change::Invalid);
    }
}
