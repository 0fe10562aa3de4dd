//! A database URL that never prints its credentials: the one masking rule the configuration,
//! the store's errors and every log line use.

use serde::{Deserialize, Serialize};

/// `sqlite:PATH` or `postgres://USER:PASSWORD@HOST/DB`. `Debug` and serialization show
/// [`DatabaseUrl::masked`]; only [`DatabaseUrl::expose`] gives the password, for connecting.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }

    pub fn masked(&self) -> String {
        mask_database_url(&self.0)
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.masked())
    }
}

impl Serialize for DatabaseUrl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.masked())
    }
}

/// The URL with its password and query (`?password=` may hold one) replaced by `***`; a URL
/// that cannot be parsed keeps only its scheme. SQLite URLs are paths and stay whole.
pub fn mask_database_url(url: &str) -> String {
    let url = url.trim();
    if url.starts_with("sqlite:") {
        return url.to_owned();
    }
    match url::Url::parse(url) {
        // `user:secret@host` parses as an opaque URL with the secret in its path.
        Ok(mut parsed) if !parsed.cannot_be_a_base() => {
            if parsed.password().is_some() {
                // Only fails for URLs that cannot have a password, and this one has one.
                let _ = parsed.set_password(Some("***"));
            }
            if parsed.query().is_some() {
                parsed.set_query(Some("***"));
            }
            parsed.to_string()
        }
        _ => mask_unparsable(url),
    }
}

fn mask_unparsable(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, _)) => format!("{scheme}://***"),
        None => match url.split_once(':') {
            Some((scheme, _)) if !scheme.contains('@') => format!("{scheme}:***"),
            _ => "***".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_is_masked_when_printed_debugged_or_serialized() {
        let url = DatabaseUrl::new("postgres://milly:hunter2@db/milly");
        assert_eq!(url.masked(), "postgres://milly:***@db/milly");
        assert!(!format!("{url:?}").contains("hunter2"));
        let json = serde_json::to_string(&url).expect("serializes");
        assert!(!json.contains("hunter2"), "{json}");
        assert_eq!(url.expose(), "postgres://milly:hunter2@db/milly");
    }

    #[test]
    fn a_password_in_the_query_is_masked_too() {
        let masked = mask_database_url("postgres://db/milly?password=s3cret");
        assert!(!masked.contains("s3cret"), "{masked}");
    }

    #[test]
    fn an_unparsable_url_keeps_only_its_scheme() {
        assert_eq!(
            mask_database_url("postgres://u:s3cret@[::1"),
            "postgres://***"
        );
        assert_eq!(mask_database_url("u:s3cret@h"), "u:***");
        assert_eq!(mask_database_url("s3cret@h"), "***");
    }

    #[test]
    fn sqlite_paths_stay_readable() {
        assert_eq!(
            mask_database_url("sqlite:///var/lib/milly/milly.db?mode=rwc"),
            "sqlite:///var/lib/milly/milly.db?mode=rwc"
        );
    }
}
