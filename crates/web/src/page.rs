//! The frame every page shares (title, navigation, language switcher, footer) and rendering a
//! template into a response.

use askama::Template;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, VARY};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::contacts::Contacts;
use crate::error::WebError;
use crate::lang::{LangSource, RequestLang};
use crate::site::Site;
use crate::text::Text;
use domain::Language;

/// The site's pages, in navigation order. Only these may be the target of the switcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageId {
    Home,
    Privacy,
    Terms,
    Support,
    /// Error pages have no address of their own.
    Error,
}

impl PageId {
    pub const NAVIGABLE: [PageId; 4] = [
        PageId::Home,
        PageId::Privacy,
        PageId::Terms,
        PageId::Support,
    ];

    pub fn path(self) -> &'static str {
        match self {
            PageId::Home | PageId::Error => "/",
            PageId::Privacy => "/privacy",
            PageId::Terms => "/terms",
            PageId::Support => "/support",
        }
    }

    pub fn from_path(path: &str) -> Option<Self> {
        Self::NAVIGABLE.into_iter().find(|p| p.path() == path)
    }
}

/// One navigation entry as the template shows it.
pub struct NavLink {
    pub href: String,
    pub label: &'static str,
    pub current: bool,
}

/// What the shared layout needs; every page template has one as `page`.
pub struct Chrome {
    pub lang: Language,
    pub t: &'static Text,
    pub title: String,
    pub service: String,
    pub css: String,
    pub icon: String,
    pub nav: Vec<NavLink>,
    pub home_href: String,
    pub switch_href: String,
    pub switch_lang: Language,
    pub operator: String,
}

impl Chrome {
    pub fn new(site: &Site, lang: RequestLang, page: PageId, title: &str) -> Self {
        let t = Text::get(lang.lang);
        let link = |path: &str| link(path, lang);
        let contacts: &Contacts = site.contacts();
        let labels = [t.nav_home, t.nav_privacy, t.nav_terms, t.nav_support];
        Self {
            lang: lang.lang,
            t,
            title: title.to_owned(),
            service: contacts.service.clone(),
            css: site.assets().css.clone(),
            icon: site.assets().icon.clone(),
            nav: PageId::NAVIGABLE
                .iter()
                .zip(labels)
                .map(|(p, label)| NavLink {
                    href: link(p.path()),
                    label,
                    current: *p == page,
                })
                .collect(),
            home_href: link("/"),
            switch_href: format!("/lang/{}?back={}", lang.lang.other().code(), page.path()),
            switch_lang: lang.lang.other(),
            operator: contacts.operator.clone(),
        }
    }
}

/// Internal links keep `?lang=` only when the visitor chose the language in the address, so a
/// shared link stays in the language it was shared in.
pub fn link(path: &str, lang: RequestLang) -> String {
    match lang.source {
        LangSource::Query => format!("{path}?lang={}", lang.lang.code()),
        LangSource::Cookie | LangSource::Browser | LangSource::Default => path.to_owned(),
    }
}

/// Renders a page with the headers every HTML answer carries.
pub fn html(status: StatusCode, template: &impl Template) -> Result<Response, WebError> {
    let body = template.render()?;
    Ok((
        status,
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            // The same address answers in either language.
            (VARY, "Accept-Language, Cookie"),
            (CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response())
}
