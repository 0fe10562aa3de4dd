//! The person's rights on the website (`/account/{token}/…`): download everything stored about
//! them, correct the email, switch card auto-renewal off, delete the account. The key is a short-lived account link the bot
//! gives on request (`app::App::issue_account_link`), never the subscription token, which is
//! pasted into apps and shared. Only `POST` acts; a cross-site `POST` is refused.
//! An unknown, expired or replaced link answers 410 with one page that says nothing more.

pub mod auto_renewal;
pub mod delete;
pub mod email;
pub mod export;
pub mod moved;
mod origin;
pub mod overview;
mod section;

use axum::http::header::{CACHE_CONTROL, LOCATION};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::User;
use time::OffsetDateTime;

use crate::error::WebError;
use crate::lang::RequestLang;
use crate::page::link;
use crate::site::Site;

pub use origin::from_this_site;
pub use section::{EmailNotice, Section};

/// The person an account link belongs to, with the use cases that act for them.
pub struct Owner<'a> {
    pub app: &'a app::App,
    pub user: User,
}

/// The owner of the account link `token`; a malformed, unknown, replaced or expired link is
/// [`WebError::LinkExpired`], all alike. A site without the app has no such pages at all.
pub async fn owner<'a>(site: &'a Site, token: &str) -> Result<Owner<'a>, WebError> {
    let app = site.app().ok_or(WebError::NotFound)?;
    let user = app
        .account_link_owner(token, OffsetDateTime::now_utc())
        .await?
        .ok_or(WebError::LinkExpired)?;
    Ok(Owner { app, user })
}

/// `/account/{token}{rest}`, keeping `?lang=` when the visitor chose the language in the address.
pub fn href(token: &str, rest: &str, lang: RequestLang) -> String {
    link(&format!("{}{token}{rest}", app::ACCOUNT_LINK_PATH), lang)
}

/// 303 back to the person's data page, telling them what happened.
pub fn back_to_page(token: &str, notice: EmailNotice, lang: RequestLang) -> Response {
    let page = href(token, "", lang);
    let separator = if page.contains('?') { '&' } else { '?' };
    let location = format!("{page}{separator}notice={}#data", notice.code());
    (
        StatusCode::SEE_OTHER,
        [(LOCATION, location), (CACHE_CONTROL, "no-store".to_owned())],
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::LangSource;
    use domain::Language;

    fn lang(source: LangSource) -> RequestLang {
        RequestLang {
            lang: Language::En,
            source,
        }
    }

    #[test]
    fn the_way_back_keeps_a_language_chosen_in_the_address() {
        let answer = back_to_page("tok", EmailNotice::Saved, lang(LangSource::Query));
        assert_eq!(answer.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            answer.headers()[LOCATION],
            "/account/tok?lang=en&notice=email-saved#data"
        );
    }

    #[test]
    fn the_way_back_adds_no_language_the_visitor_did_not_choose() {
        let answer = back_to_page("tok", EmailNotice::Removed, lang(LangSource::Cookie));
        assert_eq!(
            answer.headers()[LOCATION],
            "/account/tok?notice=email-removed#data"
        );
    }
}
