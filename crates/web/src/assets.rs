//! The stylesheet and icon, embedded in the binary and served under content-hashed names so
//! browsers may cache them forever.

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use crate::error::WebError;

const CSS: &[u8] = include_bytes!("../assets/site.css");
const ICON: &[u8] = include_bytes!("../assets/icon.svg");
const LOGIN_JS: &[u8] = include_bytes!("../assets/login.js");

/// Hashed names never change content, so a year is safe.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

struct Asset {
    stem: &'static str,
    ext: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const ASSETS: [Asset; 3] = [
    Asset {
        stem: "site",
        ext: "css",
        content_type: "text/css; charset=utf-8",
        bytes: CSS,
    },
    Asset {
        stem: "icon",
        ext: "svg",
        content_type: "image/svg+xml",
        bytes: ICON,
    },
    // The sign-in return page's only script (first-party: the site loads nothing from others).
    Asset {
        stem: "login",
        ext: "js",
        content_type: "text/javascript; charset=utf-8",
        bytes: LOGIN_JS,
    },
];

impl Asset {
    /// `site.0123456789abcdef.css`
    fn file_name(&self) -> String {
        format!("{}.{:016x}.{}", self.stem, fnv1a(self.bytes), self.ext)
    }
}

/// 64-bit FNV-1a: enough to change the name whenever the content changes; not a security hash.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
}

/// The URLs pages link to, computed once at startup.
#[derive(Debug, Clone)]
pub struct AssetUrls {
    pub css: String,
    pub icon: String,
    pub login_js: String,
}

impl AssetUrls {
    pub fn new() -> Self {
        Self {
            css: format!("/assets/{}", ASSETS[0].file_name()),
            icon: format!("/assets/{}", ASSETS[1].file_name()),
            login_js: format!("/assets/{}", ASSETS[2].file_name()),
        }
    }
}

/// `GET /assets/{name}`: only the exact hashed names exist; anything else is the site's 404.
pub async fn serve(Path(name): Path<String>) -> Result<Response, WebError> {
    let asset = ASSETS
        .iter()
        .find(|a| a.file_name() == name)
        .ok_or(WebError::NotFound)?;
    Ok((
        [
            (CONTENT_TYPE, asset.content_type),
            (CACHE_CONTROL, IMMUTABLE),
        ],
        asset.bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_names_change_when_content_changes() {
        assert_ne!(fnv1a(b"body{}"), fnv1a(b"body{ }"));
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
    }

    #[test]
    fn asset_urls_carry_the_content_hash() {
        let urls = AssetUrls::new();
        assert!(urls.css.starts_with("/assets/site."));
        assert!(urls.css.ends_with(".css"));
        assert_eq!(urls.css.len(), "/assets/site.".len() + 16 + ".css".len());
    }
}
