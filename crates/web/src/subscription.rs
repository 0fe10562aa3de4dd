//! The subscription endpoint's content: what a user's apps import (base64 links, sing-box,
//! Clash) and the headers they read, built from a [`Feed`] without any I/O.

pub mod format;
mod headers;
mod profile;
pub mod qr;
mod yaml;

use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use domain::{NodeSpec, VlessUuid};
use time::OffsetDateTime;

use crate::site::Site;
use crate::text::Text;
use domain::Language;
use format::SubFormat;
use headers::{file_stem, AppHeaders};

pub use profile::{base64_links, clash, sing_box};

/// Where a user stands, as the subscription shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedStatus {
    Active,
    Expired,
    Blocked,
    /// Signed up but never subscribed (or the trial not yet claimed).
    NoSubscription,
}

/// Everything one subscription answer needs; nothing in it is shown to anyone but its owner.
#[derive(Clone)]
pub struct Feed {
    pub status: FeedStatus,
    /// When the current or last subscription ends.
    pub expires_at: Option<OffsetDateTime>,
    pub uuid: VlessUuid,
    pub nodes: Vec<NodeSpec>,
    /// The subscription URL itself (`{public_url}/sub/{token}`).
    pub url: String,
}

impl Feed {
    /// Apps get the nodes only while access lasts; otherwise an empty list and a message.
    pub fn nodes_for_apps(&self) -> &[NodeSpec] {
        match self.status {
            FeedStatus::Active => &self.nodes,
            FeedStatus::Expired | FeedStatus::Blocked | FeedStatus::NoSubscription => &[],
        }
    }

    /// The `expire` the apps see: the real end while active, never later than now otherwise, so
    /// apps show the subscription as over.
    pub fn expire_unix(&self, now: OffsetDateTime) -> i64 {
        let end = self.expires_at.map(OffsetDateTime::unix_timestamp);
        match self.status {
            FeedStatus::Active => end.unwrap_or(0),
            _ => end.map_or(now.unix_timestamp(), |e| e.min(now.unix_timestamp())),
        }
    }

    /// What the user is told about their status, or nothing while all is well.
    pub fn message(&self, t: &Text) -> Option<&'static str> {
        match self.status {
            FeedStatus::Active => None,
            FeedStatus::Expired => Some(t.sub_expired),
            FeedStatus::Blocked => Some(t.sub_blocked),
            FeedStatus::NoSubscription => Some(t.sub_none),
        }
    }
}

/// Where apps send a user who needs help: the support account, the bot, or the support page.
pub fn support_url(site: &Site) -> String {
    let c = site.contacts();
    c.telegram_url()
        .or_else(|| c.bot_url())
        .unwrap_or_else(|| c.site_url.join_path("/support"))
}

/// The answer for an app (any format but the HTML page).
pub fn app_response(
    site: &Site,
    feed: &Feed,
    format: SubFormat,
    lang: Language,
    now: OffsetDateTime,
) -> Response {
    let service = &site.contacts().service;
    let stem = file_stem(service);
    let nodes = feed.nodes_for_apps();
    let (body, content_type, file_name) = match format {
        SubFormat::SingBox => (
            profile::sing_box(nodes, &feed.uuid).to_string(),
            "application/json; charset=utf-8",
            format!("{stem}.json"),
        ),
        SubFormat::Clash => (
            profile::clash(nodes, &feed.uuid, service),
            "text/yaml; charset=utf-8",
            format!("{stem}.yaml"),
        ),
        SubFormat::Base64 | SubFormat::Html => (
            profile::base64_links(nodes, &feed.uuid),
            "text/plain; charset=utf-8",
            format!("{stem}.txt"),
        ),
    };
    let support = support_url(site);
    let mut headers = AppHeaders {
        title: service,
        expire: feed.expire_unix(now),
        support_url: &support,
        web_page_url: &feed.url,
        announce: feed.message(Text::get(lang)),
        file_name: &file_name,
    }
    .to_map();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    (headers, body).into_response()
}
