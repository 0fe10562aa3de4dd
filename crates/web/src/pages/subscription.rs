//! `GET /sub/{token}`: what a user's apps import, chosen by User-Agent, `Accept` or `?format=`;
//! opened in a browser, a page with the status, a QR code, the link, "add to app" buttons and
//! the `vless://` links for manual setup. Read-only: the URL is pasted into apps, shown as a QR
//! code and shared, so it opens nothing of the person's data; the page says to ask the bot for
//! an account link instead (`pages::account`).

use std::time::Duration;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::{ACCEPT, CACHE_CONTROL, USER_AGENT, VARY};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use base64::Engine;
use domain::{AccessDenied, SubscriptionToken};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use time::macros::format_description;
use time::OffsetDateTime;

use crate::error::WebError;
use crate::lang::RequestLang;
use crate::page::{html, Chrome, PageId};
use crate::site::Site;
use crate::subscription::format::{choose, SubFormat};
use crate::subscription::{app_response, qr, Feed, FeedStatus};
use crate::text::account::AccountText;
use crate::text::me::MeText;
use crate::text::Text;

/// Every `/sub/` answer takes at least this long, so a valid token cannot be told from an
/// unknown one by how fast the answer comes.
pub const MIN_ANSWER_TIME: Duration = Duration::from_millis(200);

pub async fn show(
    State(site): State<Site>,
    Path(token): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    lang: RequestLang,
) -> Result<Response, WebError> {
    in_steady_time(answer(&site, &token, query.as_deref(), &headers, lang)).await
}

/// Runs a `/sub/` answer and holds it back until [`MIN_ANSWER_TIME`] has passed, so whether a
/// token exists cannot be read from the clock. Every route under `/sub/{token}` goes through it.
pub async fn in_steady_time<T>(answer: impl std::future::Future<Output = T>) -> T {
    let deadline = tokio::time::Instant::now() + MIN_ANSWER_TIME;
    let answer = answer.await;
    tokio::time::sleep_until(deadline).await;
    answer
}

async fn answer(
    site: &Site,
    token: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    lang: RequestLang,
) -> Result<Response, WebError> {
    let app = site.app().ok_or(WebError::NotFound)?;
    let now = OffsetDateTime::now_utc();
    let feed = load_feed(app, token, now)
        .await?
        .ok_or(WebError::NotFound)?;
    let header = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    let query_format = query
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "format")
        .map(|(_, v)| v);
    let (operator_rules, builtin) = site.format_rules();
    let format = choose(
        query_format,
        header(USER_AGENT),
        header(ACCEPT),
        operator_rules,
        builtin,
    );
    let mut response = match format {
        SubFormat::Html => {
            let renew = renew_links(site, app, token, &feed);
            render(site, &feed, lang, &format!("/sub/{token}"), renew)?
        }
        other => app_response(site, &feed, other, lang.lang, now),
    };
    response.headers_mut().insert(
        VARY,
        HeaderValue::from_static("User-Agent, Accept, Accept-Language, Cookie"),
    );
    Ok(response)
}

/// What the owner of `token` may use, or `None` for a token nobody has.
async fn load_feed(
    app: &app::App,
    token: &str,
    now: OffsetDateTime,
) -> Result<Option<Feed>, WebError> {
    let Ok(token) = token.parse::<SubscriptionToken>() else {
        return Ok(None);
    };
    let Some(feed) = app.subscription_feed(&token, now).await? else {
        return Ok(None);
    };
    let status = match feed.access {
        Ok(()) => FeedStatus::Active,
        Err(AccessDenied::Expired) => FeedStatus::Expired,
        Err(AccessDenied::Blocked) => FeedStatus::Blocked,
        Err(AccessDenied::NoSubscription) => FeedStatus::NoSubscription,
    };
    Ok(Some(Feed {
        status,
        expires_at: feed.expires_at,
        uuid: feed.vless_uuid,
        nodes: feed.nodes,
        url: feed.url,
    }))
}

/// One "renew by card" link: the plan, its price, and the card checkout for the page's owner.
pub struct RenewLink {
    pub label: String,
    pub href: String,
}

/// The card checkout links for the owner of `token`, one per plan on sale by card: the
/// checkout page asks again before anything is paid. None for a blocked person, or when
/// the site takes no card payments.
fn renew_links(site: &Site, app: &app::App, token: &str, feed: &Feed) -> Vec<RenewLink> {
    let Ok(token) = token.parse::<SubscriptionToken>() else {
        return Vec::new();
    };
    if site.card_routes().is_none() || matches!(feed.status, FeedStatus::Blocked) {
        return Vec::new();
    }
    app.card_plans()
        .iter()
        .filter_map(|plan| {
            let price = plan.price_rub?;
            Some(RenewLink {
                label: format!("{} · {} ₽", plan.id.0, billing::amount::to_value(price)),
                href: app.card_checkout_url(&token, plan),
            })
        })
        .collect()
}

/// An "add to app" button: the app's own URL scheme for importing a subscription.
pub struct AppLink {
    pub name: &'static str,
    pub href: String,
}

#[derive(Template)]
#[template(path = "subscription.html")]
struct SubscriptionPage {
    page: Chrome,
    until: Option<String>,
    message: Option<&'static str>,
    bot_url: Option<String>,
    qr: Option<String>,
    url: String,
    apps: Vec<AppLink>,
    links: Vec<String>,
    data_title: &'static str,
    /// Where the data controls are: the bot's account link.
    data_hint: &'static str,
    renew: Vec<RenewLink>,
    renew_title: &'static str,
    renew_hint: &'static str,
}

/// The import links of the apps we support, for the subscription at `url`.
pub fn app_links(url: &str, title: &str) -> Vec<AppLink> {
    let enc = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
    let b64 = base64::engine::general_purpose::STANDARD.encode(url);
    let (u, t) = (enc(url), enc(title));
    vec![
        AppLink {
            name: "v2rayNG",
            href: format!("v2rayng://install-config?url={u}#{t}"),
        },
        AppLink {
            name: "Hiddify",
            href: format!("hiddify://import/{url}#{t}"),
        },
        AppLink {
            name: "Streisand",
            href: format!("streisand://import/{url}#{t}"),
        },
        AppLink {
            name: "Happ",
            href: format!("happ://add/{url}"),
        },
        AppLink {
            name: "v2RayTun",
            href: format!("v2raytun://import/{url}"),
        },
        AppLink {
            name: "Shadowrocket",
            href: format!("sub://{b64}#{t}"),
        },
        AppLink {
            name: "sing-box",
            href: format!("sing-box://import-remote-profile?url={u}#{t}"),
        },
        AppLink {
            name: "Clash Verge / FlClash",
            href: format!("clash://install-config?url={u}&name={t}"),
        },
    ]
}

/// Renders the page for `feed`; `path` is this page's own address, for the language switcher.
pub fn render(
    site: &Site,
    feed: &Feed,
    lang: RequestLang,
    path: &str,
    renew: Vec<RenewLink>,
) -> Result<Response, WebError> {
    let t = Text::get(lang.lang);
    let mut page = Chrome::new(site, lang, PageId::Error, t.sub_title);
    // Switching language stays on this page and remembers nothing.
    page.switch_href = format!("{path}?lang={}", lang.lang.other().code());
    let until = match (feed.status, feed.expires_at) {
        (FeedStatus::Active, Some(end)) => end
            .format(format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .ok(),
        _ => None,
    };
    let service = &site.contacts().service;
    let template = SubscriptionPage {
        page,
        until,
        message: feed.message(t),
        bot_url: site.contacts().bot_url(),
        qr: qr::svg(&feed.url),
        url: feed.url.clone(),
        apps: app_links(&feed.url, service),
        links: domain::share_links(feed.nodes_for_apps(), &feed.uuid),
        data_title: AccountText::get(lang.lang).data_title,
        data_hint: AccountText::get(lang.lang).sub_hint,
        renew,
        renew_title: MeText::get(lang.lang).renew_title,
        renew_hint: MeText::get(lang.lang).renew_hint,
    };
    let mut response = html(StatusCode::OK, &template)?;
    // Personal: never stored by the browser or anything in between.
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
