//! The service's public address, parsed once, and the one way to put a path under it.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// Where people reach the website, such as `https://vpn.example`: an http(s) URL with a host.
/// [`PublicUrl::join_path`] builds every link under it, so no caller trims slashes.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PublicUrl {
    url: url::Url,
    /// `url` without its trailing slashes: what paths are appended to.
    base: String,
}

/// Why a public URL was refused. The message names no personal data: it is the operator's own
/// configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidPublicUrl {
    #[error("not a URL ({0})")]
    Unparsable(url::ParseError),
    #[error("must be an http:// or https:// URL")]
    NotHttp,
}

impl PublicUrl {
    /// `path` appended to the address; `path` starts with `/` and may carry a query, such as
    /// `/pay/return?t=…`.
    pub fn join_path(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The address without a trailing slash, such as `https://vpn.example`.
    pub fn as_str(&self) -> &str {
        &self.base
    }

    /// The address as people read it: `vpn.example` (with a port or path when it has one).
    pub fn host_and_path(&self) -> &str {
        self.base
            .split_once("://")
            .map_or(self.base.as_str(), |(_, rest)| rest)
    }

    /// The host alone, such as `vpn.example` or `2001:db8::1` (IPv6 without brackets).
    pub fn host(&self) -> String {
        match self.url.host() {
            Some(url::Host::Ipv6(v6)) => v6.to_string(),
            Some(host) => host.to_string(),
            None => String::new(),
        }
    }

    pub fn is_https(&self) -> bool {
        self.url.scheme() == "https"
    }
}

/// The website on its default local address, `http://127.0.0.1:8080`, until the operator says
/// where people reach it.
impl Default for PublicUrl {
    #[allow(clippy::expect_used)]
    fn default() -> Self {
        "http://127.0.0.1:8080"
            .parse()
            .expect("the default public URL is a valid http URL")
    }
}

impl FromStr for PublicUrl {
    type Err = InvalidPublicUrl;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let url = url::Url::parse(s.trim()).map_err(InvalidPublicUrl::Unparsable)?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(InvalidPublicUrl::NotHttp);
        }
        let base = url.as_str().trim_end_matches('/').to_owned();
        Ok(Self { url, base })
    }
}

impl TryFrom<String> for PublicUrl {
    type Error = InvalidPublicUrl;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<PublicUrl> for String {
    fn from(u: PublicUrl) -> Self {
        u.base
    }
}

impl fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base)
    }
}

impl fmt::Debug for PublicUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicUrl({})", self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> PublicUrl {
        s.parse().expect("a valid public URL")
    }

    #[test]
    fn a_path_joins_the_same_with_or_without_a_trailing_slash() {
        for s in [
            "https://vpn.example",
            "https://vpn.example/",
            "https://vpn.example//",
        ] {
            assert_eq!(url(s).join_path("/privacy"), "https://vpn.example/privacy");
        }
    }

    #[test]
    fn a_path_under_a_prefix_keeps_the_prefix() {
        for s in ["https://vpn.example/base", "https://vpn.example/base/"] {
            assert_eq!(
                url(s).join_path("/sub/abc?x=1"),
                "https://vpn.example/base/sub/abc?x=1"
            );
        }
    }

    #[test]
    fn a_port_and_surrounding_spaces_are_kept_and_dropped() {
        let u = url(" http://127.0.0.1:8080 ");
        assert_eq!(u.as_str(), "http://127.0.0.1:8080");
        assert_eq!(u.host_and_path(), "127.0.0.1:8080");
        assert!(!u.is_https());
        assert!(url("https://vpn.example").is_https());
    }

    #[test]
    fn anything_but_an_http_url_with_a_host_is_refused() {
        assert!(matches!(
            "not a url".parse::<PublicUrl>(),
            Err(InvalidPublicUrl::Unparsable(_))
        ));
        for s in ["ftp://vpn.example", "mailto:a@b.example", "file:///tmp"] {
            assert_eq!(
                s.parse::<PublicUrl>(),
                Err(InvalidPublicUrl::NotHttp),
                "{s}"
            );
        }
    }

    #[test]
    fn it_round_trips_through_serde_as_a_string() {
        let u: PublicUrl = serde_json::from_str("\"https://vpn.example/\"").expect("valid");
        assert_eq!(
            serde_json::to_string(&u).expect("serializes"),
            "\"https://vpn.example\""
        );
        assert!(serde_json::from_str::<PublicUrl>("\"nope\"").is_err());
    }
}
