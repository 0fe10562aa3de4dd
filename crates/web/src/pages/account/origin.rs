//! Cross-site request refusal for the data controls' forms. The account link in the address is
//! already a secret another site cannot know; this is the second lock: a browser says where a
//! form came from (`Sec-Fetch-Site`, `Origin`), and a form from anywhere but this site's own
//! pages does nothing. Clients that say neither (not browsers) are judged by the link alone.

use axum::http::header::{HOST, ORIGIN};
use axum::http::HeaderMap;

/// Whether a `POST` may act: not sent by another site's page.
pub fn from_this_site(headers: &HeaderMap) -> bool {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    match text("sec-fetch-site") {
        // One of our pages, as the browser itself says (a page cannot forge the header). Its
        // Origin is "null" then: the site's `Referrer-Policy: no-referrer` makes browsers hide
        // it, so only a browser without Fetch Metadata is judged by Origin below.
        Some("same-origin") => return true,
        // Typed or bookmarked by the person.
        Some("none") | None => {}
        Some(_) => return false,
    }
    let Some(origin) = headers.get(ORIGIN) else {
        return true;
    };
    let host = headers.get(HOST).and_then(|v| v.to_str().ok());
    let (Ok(origin), Some(host)) = (origin.to_str(), host) else {
        return false;
    };
    // "scheme://host[:port]" must name the host the request was sent to ("null" never does).
    origin
        .split_once("://")
        .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.insert(*name, value.parse().unwrap());
        }
        h
    }

    #[test]
    fn our_own_forms_and_non_browsers_may_act() {
        assert!(from_this_site(&headers(&[])));
        assert!(from_this_site(&headers(&[
            ("sec-fetch-site", "same-origin"),
            ("origin", "https://vpn.example"),
            ("host", "vpn.example"),
        ])));
        assert!(from_this_site(&headers(&[
            ("origin", "http://127.0.0.1:8080"),
            ("host", "127.0.0.1:8080"),
        ])));
        // What Chromium sends for our own form under `Referrer-Policy: no-referrer`.
        assert!(from_this_site(&headers(&[
            ("sec-fetch-site", "same-origin"),
            ("origin", "null"),
            ("host", "vpn.example"),
        ])));
    }

    #[test]
    fn forms_from_other_sites_may_not() {
        for site in ["cross-site", "same-site", "anything"] {
            assert!(!from_this_site(&headers(&[("sec-fetch-site", site)])));
        }
        assert!(!from_this_site(&headers(&[
            ("origin", "https://evil.example"),
            ("host", "vpn.example"),
        ])));
        assert!(!from_this_site(&headers(&[
            ("origin", "null"),
            ("host", "vpn.example"),
        ])));
        assert!(!from_this_site(&headers(&[(
            "origin",
            "https://vpn.example"
        )])));
    }
}
