//! `GET /me`: the signed-in person's subscription (status, days left, plan, the link for their
//! apps with its QR code), a card payment form per plan on sale (with the ways to pay when the
//! operator offers several) and sign-out.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header::CONTENT_SECURITY_POLICY;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use time::macros::format_description;
use time::OffsetDateTime;

use super::session::Customer;
use super::view::no_store;
use super::{LOGOUT_PATH, PAY_PATH};
use crate::error::WebError;
use crate::lang::RequestLang;
use crate::page::{html, Chrome, PageId};
use crate::security::CHECKOUT_CONTENT_SECURITY_POLICY_VALUE;
use crate::site::Site;
use crate::subscription::qr;
use crate::text::me::MeText;

/// A plan on sale by card, as its form shows it.
pub struct CardOffer {
    pub plan: String,
    pub days: u32,
    pub price: String,
}

#[derive(Template)]
#[template(path = "me.html")]
struct MePage {
    page: Chrome,
    t: &'static MeText,
    notice: Option<&'static str>,
    until: Option<String>,
    days_left: i64,
    status: &'static str,
    plan: Option<String>,
    url: Option<String>,
    qr: Option<String>,
    offers: Vec<CardOffer>,
    methods: Vec<(&'static str, &'static str)>,
    csrf: String,
    pay_action: &'static str,
    logout_action: &'static str,
}

#[derive(Deserialize)]
pub struct Notice {
    #[serde(default)]
    notice: String,
}

pub async fn show(
    State(site): State<Site>,
    lang: RequestLang,
    customer: Customer,
    Query(q): Query<Notice>,
) -> Result<Response, WebError> {
    let t = MeText::get(lang.lang);
    let app = &customer.app;
    let now = OffsetDateTime::now_utc();
    let user = app.user(customer.user).await?;
    let mine = app.my_subscription(customer.user).await?;
    let active = mine
        .as_ref()
        .filter(|m| m.subscription.is_active(now) && !user.blocked);
    let until = active.and_then(|m| {
        m.subscription
            .ends_at
            .format(format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .ok()
    });
    let days_left = active.map_or(0, |m| {
        let left = m.subscription.ends_at - now;
        // A started day counts as a day left.
        (left.whole_seconds() + 86_399) / 86_400
    });
    let status = if user.blocked {
        t.blocked
    } else if mine.is_some() {
        t.expired
    } else {
        t.none
    };
    let url = mine.as_ref().map(|m| m.url.clone());
    let offers = if user.blocked {
        Vec::new()
    } else {
        app.card_plans()
            .into_iter()
            .filter_map(|p| {
                let price = p.price_rub?;
                Some(CardOffer {
                    plan: p.id.0.clone(),
                    days: p.days.0,
                    price: format!("{} ₽", billing::amount::to_value(price)),
                })
            })
            .collect()
    };
    let methods = app
        .settings()
        .yookassa
        .payment_methods
        .iter()
        .map(|m| (m.code(), t.method(m.code())))
        .collect();
    let mut chrome = Chrome::new(&site, lang, PageId::Error, t.me_title);
    // Switching language stays on this page.
    chrome.switch_href = format!("{}?lang={}", super::ME_PATH, lang.lang.other().code());
    let page = MePage {
        page: chrome,
        t,
        notice: (q.notice == "pay-failed").then_some(t.pay_failed),
        until,
        days_left,
        status,
        plan: mine.as_ref().map(|m| m.subscription.plan.0.clone()),
        qr: url.as_deref().and_then(qr::svg),
        url,
        offers,
        methods,
        csrf: customer.csrf(),
        pay_action: PAY_PATH,
        logout_action: LOGOUT_PATH,
    };
    let mut response = no_store(html(StatusCode::OK, &page)?);
    // Its pay forms are answered by a redirect to YooKassa's page.
    response.headers_mut().insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CHECKOUT_CONTENT_SECURITY_POLICY_VALUE),
    );
    Ok(response)
}
