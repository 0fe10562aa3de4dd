//! The response headers subscription apps read: usage and expiry, title, refresh interval,
//! support and web page links, an announcement, and a file name.

use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use base64::Engine;

/// How often apps refresh the subscription, in hours.
pub const UPDATE_INTERVAL_HOURS: u32 = 12;

/// What the headers say, before encoding.
pub struct AppHeaders<'a> {
    pub title: &'a str,
    /// Unix seconds; in the past for an expired or blocked user.
    pub expire: i64,
    pub support_url: &'a str,
    pub web_page_url: &'a str,
    pub announce: Option<&'a str>,
    /// The file name apps save the profile as, extension included.
    pub file_name: &'a str,
}

/// `base64:...`: how the apps take text that may not be ASCII.
fn base64_text(s: &str) -> String {
    format!(
        "base64:{}",
        base64::engine::general_purpose::STANDARD.encode(s)
    )
}

/// Keeps a value only when it is a valid header (a URL from config could hold anything).
fn insert(map: &mut HeaderMap, name: &'static str, value: String) {
    if let Ok(v) = HeaderValue::from_str(&value) {
        map.insert(HeaderName::from_static(name), v);
    }
}

/// A file name of letters, digits, dots, dashes and underscores only.
pub fn file_stem(service: &str) -> String {
    let stem: String = service
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let stem = stem.trim_matches('-');
    if stem.is_empty() {
        "subscription".to_owned()
    } else {
        stem.to_owned()
    }
}

impl AppHeaders<'_> {
    pub fn to_map(&self) -> HeaderMap {
        let mut map = HeaderMap::new();
        // Traffic is not counted per user: zero means unlimited to the apps.
        insert(
            &mut map,
            "subscription-userinfo",
            format!(
                "upload=0; download=0; total=0; expire={}",
                self.expire.max(0)
            ),
        );
        insert(&mut map, "profile-title", base64_text(self.title));
        insert(
            &mut map,
            "profile-update-interval",
            UPDATE_INTERVAL_HOURS.to_string(),
        );
        insert(&mut map, "support-url", self.support_url.to_owned());
        insert(
            &mut map,
            "profile-web-page-url",
            self.web_page_url.to_owned(),
        );
        if let Some(text) = self.announce {
            insert(&mut map, "announce", base64_text(text));
        }
        if let Ok(v) =
            HeaderValue::from_str(&format!("attachment; filename=\"{}\"", self.file_name))
        {
            map.insert(CONTENT_DISPOSITION, v);
        }
        // Personal: never kept by shared caches or the browser's disk.
        map.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        map
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(announce: Option<&str>) -> HeaderMap {
        AppHeaders {
            title: "milly VPN",
            expire: 1_800_000_000,
            support_url: "https://t.me/milly_help",
            web_page_url: "https://vpn.example/sub/abc",
            announce,
            file_name: "milly.yaml",
        }
        .to_map()
    }

    #[test]
    fn apps_get_expiry_unlimited_traffic_and_a_base64_title() {
        let h = headers(None);
        assert_eq!(
            h["subscription-userinfo"],
            "upload=0; download=0; total=0; expire=1800000000"
        );
        assert_eq!(h["profile-title"], "base64:bWlsbHkgVlBO");
        assert_eq!(h["profile-update-interval"], "12");
        assert_eq!(h["support-url"], "https://t.me/milly_help");
        assert_eq!(h["profile-web-page-url"], "https://vpn.example/sub/abc");
        assert_eq!(
            h[CONTENT_DISPOSITION],
            "attachment; filename=\"milly.yaml\""
        );
        assert_eq!(h[CACHE_CONTROL], "no-store");
        assert!(h.get("announce").is_none());
    }

    #[test]
    fn an_announcement_in_any_language_is_base64() {
        let h = headers(Some("Подписка закончилась"));
        let value = h["announce"].to_str().unwrap();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(value.strip_prefix("base64:").unwrap())
            .unwrap();
        assert_eq!(String::from_utf8(decoded).unwrap(), "Подписка закончилась");
    }

    #[test]
    fn file_names_keep_only_safe_characters() {
        assert_eq!(file_stem("milly VPN"), "milly-VPN");
        assert_eq!(file_stem("\"; rm -rf"), "rm--rf");
        assert_eq!(file_stem("Милли"), "subscription");
    }
}
