//! Which language a visitor reads: `?lang=`, then the `lang` cookie, then `Accept-Language`.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::header::{ACCEPT_LANGUAGE, COOKIE};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use domain::Language;

/// The name of the only cookie the site sets: the language a visitor picked with the switcher.
pub const LANG_COOKIE: &str = "lang";

/// How long the language choice is remembered.
const LANG_COOKIE_MAX_AGE_SECS: u64 = 365 * 24 * 60 * 60;

/// Where the language came from; links keep `?lang=` only when it came from the address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LangSource {
    Query,
    Cookie,
    Browser,
    Default,
}

/// The language of the current request; never fails, falls back to Russian.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLang {
    pub lang: Language,
    pub source: LangSource,
}

impl RequestLang {
    pub fn negotiate(query: Option<&str>, headers: &HeaderMap) -> Self {
        if let Some(lang) = query.and_then(from_query) {
            return Self {
                lang,
                source: LangSource::Query,
            };
        }
        if let Some(lang) = from_cookies(headers) {
            return Self {
                lang,
                source: LangSource::Cookie,
            };
        }
        if let Some(lang) = headers
            .get_all(ACCEPT_LANGUAGE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(from_accept_language)
        {
            return Self {
                lang,
                source: LangSource::Browser,
            };
        }
        Self {
            lang: Language::Ru,
            source: LangSource::Default,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestLang {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::negotiate(parts.uri.query(), &parts.headers))
    }
}

/// `lang=xx` among the query's pairs; anything unknown is ignored rather than an error.
fn from_query(query: &str) -> Option<Language> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "lang")
        .and_then(|(_, v)| Language::from_code(v))
}

fn from_cookies(headers: &HeaderMap) -> Option<Language> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == LANG_COOKIE)
        .and_then(|(_, v)| Language::from_code(v.trim_matches('"')))
}

/// The supported language with the highest quality (`ru-RU;q=0.8` counts as `ru`); ties go to
/// the one listed first.
fn from_accept_language(value: &str) -> Option<Language> {
    let mut best: Option<(Language, u16)> = None;
    for item in value.split(',') {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or_default().trim();
        let primary = tag
            .split('-')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let Some(lang) = Language::from_code(&primary) else {
            continue;
        };
        let quality = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(parse_quality)
            .unwrap_or(1000);
        if quality > 0 && best.is_none_or(|(_, q)| quality > q) {
            best = Some((lang, quality));
        }
    }
    best.map(|(lang, _)| lang)
}

/// A q-value (`0` to `1` with up to three decimals) in thousandths.
fn parse_quality(q: &str) -> Option<u16> {
    let value: f32 = q.trim().parse().ok()?;
    if (0.0..=1.0).contains(&value) {
        Some((value * 1000.0).round() as u16)
    } else {
        None
    }
}

/// The `Set-Cookie` value remembering a language: functional only, never readable by scripts.
pub fn lang_cookie(lang: Language, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age={LANG_COOKIE_MAX_AGE_SECS}; HttpOnly; SameSite=Lax{secure}",
        lang.code()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(axum::http::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(k.clone(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn the_query_wins_over_cookie_and_browser() {
        let h = headers(&[(COOKIE, "lang=ru"), (ACCEPT_LANGUAGE, "ru")]);
        let got = RequestLang::negotiate(Some("x=1&lang=en"), &h);
        assert_eq!(
            got,
            RequestLang {
                lang: Language::En,
                source: LangSource::Query
            }
        );
    }

    #[test]
    fn the_cookie_wins_over_the_browser() {
        let h = headers(&[(COOKIE, "a=b; lang=en"), (ACCEPT_LANGUAGE, "ru")]);
        assert_eq!(RequestLang::negotiate(None, &h).lang, Language::En);
    }

    #[test]
    fn an_unknown_query_or_cookie_value_falls_through_to_the_browser() {
        let h = headers(&[(COOKIE, "lang=de"), (ACCEPT_LANGUAGE, "en-GB,en;q=0.9")]);
        let got = RequestLang::negotiate(Some("lang=fr%00"), &h);
        assert_eq!(
            got,
            RequestLang {
                lang: Language::En,
                source: LangSource::Browser
            }
        );
    }

    #[test]
    fn accept_language_picks_the_highest_quality_supported_language() {
        assert_eq!(
            from_accept_language("de, en;q=0.5, ru;q=0.7"),
            Some(Language::Ru)
        );
        assert_eq!(from_accept_language("en-US,ru;q=0.9"), Some(Language::En));
        assert_eq!(from_accept_language("ru;q=0, en;q=0.1"), Some(Language::En));
        assert_eq!(from_accept_language("de-DE, fr"), None);
        assert_eq!(from_accept_language(";;;,q=,"), None);
    }

    #[test]
    fn without_any_hint_the_site_speaks_russian() {
        let got = RequestLang::negotiate(None, &HeaderMap::new());
        assert_eq!(
            got,
            RequestLang {
                lang: Language::Ru,
                source: LangSource::Default
            }
        );
    }

    #[test]
    fn the_language_cookie_is_http_only_lax_and_secure_only_behind_tls() {
        assert_eq!(
            lang_cookie(Language::En, true),
            "lang=en; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax; Secure"
        );
        assert!(!lang_cookie(Language::Ru, false).contains("Secure"));
    }
}
