//! The header trusted proxies put the client's address in: a comma-separated list of addresses
//! (`X-Forwarded-For`, or a one-address header such as `X-Real-IP`), or RFC 7239 `Forwarded`
//! (`for=`). Read right to left: each proxy appends the address it saw.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use http::header::{HeaderName, FORWARDED};
use http::HeaderMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForwardedHeader {
    /// Addresses separated by commas, each optionally with a port.
    List(HeaderName),
    /// RFC 7239 `Forwarded: for=...`.
    Forwarded,
}

impl Default for ForwardedHeader {
    fn default() -> Self {
        ForwardedHeader::List(HeaderName::from_static("x-forwarded-for"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an HTTP header name such as X-Forwarded-For")]
pub struct BadHeaderName(String);

impl FromStr for ForwardedHeader {
    type Err = BadHeaderName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = HeaderName::from_bytes(s.trim().to_ascii_lowercase().as_bytes())
            .map_err(|_| BadHeaderName(s.to_owned()))?;
        Ok(if name == FORWARDED {
            ForwardedHeader::Forwarded
        } else {
            ForwardedHeader::List(name)
        })
    }
}

impl fmt::Display for ForwardedHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ForwardedHeader::List(name) => f.write_str(name.as_str()),
            ForwardedHeader::Forwarded => f.write_str(FORWARDED.as_str()),
        }
    }
}

impl<'de> serde::Deserialize<'de> for ForwardedHeader {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl serde::Serialize for ForwardedHeader {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl ForwardedHeader {
    /// The hops recorded in `headers`, right-most (nearest) first; `None` for an entry that is
    /// not an address (`unknown`, an obfuscated name, garbage). Lazy: the caller stops at the
    /// first hop it does not trust, so a long header costs only what is read of it.
    pub(crate) fn hops_nearest_first<'h>(
        &'h self,
        headers: &'h HeaderMap,
    ) -> impl Iterator<Item = Option<IpAddr>> + 'h {
        let name = match self {
            ForwardedHeader::List(name) => name,
            ForwardedHeader::Forwarded => &FORWARDED,
        };
        let forwarded = matches!(self, ForwardedHeader::Forwarded);
        headers.get_all(name).iter().rev().flat_map(move |value| {
            let text = value.to_str().unwrap_or("\u{0}");
            text.rsplit(',').map(move |entry| {
                if forwarded {
                    forwarded_for(entry)
                } else {
                    address(entry)
                }
            })
        })
    }
}

/// `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1` or `[2001:db8::1]:4711`.
fn address(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim().trim_matches('"');
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(sa) = entry.parse::<SocketAddr>() {
        return Some(sa.ip());
    }
    entry
        .strip_prefix('[')
        .and_then(|e| e.strip_suffix(']'))
        .and_then(|e| e.parse().ok())
}

/// The `for=` of one RFC 7239 element such as `for="[2001:db8::1]:80";proto=https`.
fn forwarded_for(element: &str) -> Option<IpAddr> {
    element.split(';').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        if k.trim().eq_ignore_ascii_case("for") {
            address(v)
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hops(h: &ForwardedHeader, name: &'static str, values: &[&str]) -> Vec<Option<IpAddr>> {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(name, v.parse().unwrap());
        }
        h.hops_nearest_first(&map).collect()
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn a_forwarded_for_list_is_read_right_to_left_across_lines() {
        let h = ForwardedHeader::default();
        assert_eq!(
            hops(
                &h,
                "x-forwarded-for",
                &["198.51.100.1, nonsense", "192.0.2.1:80, [2001:db8::1]:8"]
            ),
            vec![ip("2001:db8::1"), ip("192.0.2.1"), None, ip("198.51.100.1")]
        );
    }

    #[test]
    fn rfc_7239_for_values_are_read_quoted_or_not() {
        let h: ForwardedHeader = "Forwarded".parse().unwrap();
        assert_eq!(h, ForwardedHeader::Forwarded);
        assert_eq!(
            hops(
                &h,
                "forwarded",
                &["for=192.0.2.60;proto=http;by=203.0.113.43, for=\"[2001:db8:cafe::17]:4711\", for=unknown, proto=https"]
            ),
            vec![None, None, ip("2001:db8:cafe::17"), ip("192.0.2.60")]
        );
    }

    #[test]
    fn header_names_are_checked_and_any_case_is_accepted() {
        assert_eq!(
            "X-Real-IP".parse::<ForwardedHeader>().unwrap().to_string(),
            "x-real-ip"
        );
        assert!("bad header".parse::<ForwardedHeader>().is_err());
        assert!("".parse::<ForwardedHeader>().is_err());
    }
}
