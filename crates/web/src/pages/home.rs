//! `GET /`: what the service is, its plans and prices, and the way to the bot.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::error::WebError;
use crate::lang::RequestLang;
use crate::page::{html, Chrome, PageId};
use crate::site::Site;
use crate::text::{days, roubles, Text};
use domain::{Language, Plan};

/// A plan as the home page shows it.
pub struct PlanView {
    pub days: String,
    pub rub: Option<String>,
    pub stars: Option<i64>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    page: Chrome,
    plans: Vec<PlanView>,
    trial: Option<String>,
    bot_url: Option<String>,
    /// Signing in with Telegram to see and pay for a subscription here, when the site has the
    /// app behind it: the link's label.
    sign_in: Option<&'static str>,
}

pub async fn show(State(site): State<Site>, lang: RequestLang) -> Result<Response, WebError> {
    let settings = site.settings();
    let page = HomePage {
        page: Chrome::new(&site, lang, PageId::Home, Text::get(lang.lang).home_tagline),
        plans: plans(&settings.plans, lang.lang),
        trial: (settings.trial_days > 0).then(|| days(lang.lang, settings.trial_days)),
        bot_url: site.contacts().bot_url(),
        sign_in: site
            .app()
            .map(|_| crate::text::me::MeText::get(lang.lang).login_title),
    };
    html(StatusCode::OK, &page)
}

fn plans(plans: &[Plan], lang: Language) -> Vec<PlanView> {
    plans
        .iter()
        .filter(|p| p.price_rub.is_some() || p.price_stars.is_some())
        .map(|p| PlanView {
            days: days(lang, p.days.0),
            rub: p.price_rub.map(|r| roubles(lang, r)),
            stars: p.price_stars.map(|s| s.minor),
        })
        .collect()
}
