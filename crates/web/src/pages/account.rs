//! The person's rights on their own page (`/sub/{token}/…`): download everything stored about
//! them, correct the email, delete the account. The subscription token is the only key; there is
//! no login.

pub mod delete;
pub mod email;
pub mod export;
mod section;

use axum::http::header::{CACHE_CONTROL, LOCATION};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::{SubscriptionToken, User};

use crate::error::WebError;
use crate::lang::RequestLang;
use crate::page::link;
use crate::site::Site;

pub use section::{EmailNotice, Section};

/// The person a token belongs to, with the use cases that act for them.
pub struct Owner<'a> {
    pub app: &'a app::App,
    pub user: User,
    pub token: SubscriptionToken,
}

/// The owner of `token`; a malformed, unknown or rotated token (or a site without the app) is
/// [`WebError::NotFound`], exactly like `GET /sub/{token}`.
pub async fn owner<'a>(site: &'a Site, token: &str) -> Result<Owner<'a>, WebError> {
    let app = site.app().ok_or(WebError::NotFound)?;
    let token: SubscriptionToken = token.parse().map_err(|_| WebError::NotFound)?;
    let user = app
        .store()
        .user_by_sub_token(&token)
        .await?
        .ok_or(WebError::NotFound)?;
    Ok(Owner { app, user, token })
}

/// `/sub/{token}{rest}`, keeping `?lang=` when the visitor chose the language in the address.
pub fn href(token: &str, rest: &str, lang: RequestLang) -> String {
    link(&format!("/sub/{token}{rest}"), lang)
}

/// 303 back to the person's page, scrolled to their data, telling them what happened.
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
    use crate::lang::{Lang, LangSource};

    fn lang(source: LangSource) -> RequestLang {
        RequestLang {
            lang: Lang::En,
            source,
        }
    }

    #[test]
    fn the_way_back_keeps_a_language_chosen_in_the_address() {
        let answer = back_to_page("tok", EmailNotice::Saved, lang(LangSource::Query));
        assert_eq!(answer.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            answer.headers()[LOCATION],
            "/sub/tok?lang=en&notice=email-saved#data"
        );
    }

    #[test]
    fn the_way_back_adds_no_language_the_visitor_did_not_choose() {
        let answer = back_to_page("tok", EmailNotice::Removed, lang(LangSource::Cookie));
        assert_eq!(
            answer.headers()[LOCATION],
            "/sub/tok?notice=email-removed#data"
        );
    }
}
