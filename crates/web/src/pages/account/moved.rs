//! `/sub/{token}/export`, `/sub/{token}/email`, `/sub/{token}/delete`: the addresses the data
//! controls had when the subscription token opened them. They act no more, whatever the token
//! or method: they answer 410 with a page sending the person to the bot for an account link,
//! without looking the token up (so they say nothing about it either).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::error::WebError;
use crate::lang::RequestLang;
use crate::page::{html, Chrome, PageId};
use crate::site::Site;
use crate::text::account::AccountText;

#[derive(Template)]
#[template(path = "moved.html")]
struct MovedPage {
    page: Chrome,
    t: &'static AccountText,
    bot_url: Option<String>,
}

pub async fn show(State(site): State<Site>, lang: RequestLang) -> Result<Response, WebError> {
    let t = AccountText::get(lang.lang);
    let page = Chrome::new(&site, lang, PageId::Error, t.moved_title);
    let template = MovedPage {
        page,
        t,
        bot_url: site.contacts().bot_url(),
    };
    html(StatusCode::GONE, &template)
}
