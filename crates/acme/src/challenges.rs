//! The HTTP-01 answers an order is waiting for: token → key authorization, shared between the
//! order in progress and the plain-HTTP listener that serves them.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

/// Where the CA fetches an HTTP-01 answer: this prefix, then the token.
pub const CHALLENGE_PATH_PREFIX: &str = "/.well-known/acme-challenge/";

/// The answers to serve right now (only while an order waits for validation).
#[derive(Clone, Default)]
pub struct Challenges {
    answers: Arc<RwLock<HashMap<String, String>>>,
}

impl std::fmt::Debug for Challenges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Challenges").finish_non_exhaustive()
    }
}

impl Challenges {
    pub fn new() -> Self {
        Self::default()
    }

    /// The key authorization to answer for `token`, if an order is waiting for it.
    pub fn answer(&self, token: &str) -> Option<String> {
        if !is_token(token) {
            return None;
        }
        self.answers
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(token)
            .cloned()
    }

    pub(crate) fn insert(&self, token: &str, key_authorization: &str) {
        self.answers
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(token.to_owned(), key_authorization.to_owned());
    }

    pub(crate) fn remove(&self, token: &str) {
        self.answers
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(token);
    }
}

/// RFC 8555 §8.3: a token is base64url (no padding); anything else is never looked up.
fn is_token(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= 256
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_waiting_token_is_answered_until_removed() {
        let c = Challenges::new();
        c.insert("abc_-DEF", "abc_-DEF.thumb");
        assert_eq!(c.answer("abc_-DEF").as_deref(), Some("abc_-DEF.thumb"));
        c.remove("abc_-DEF");
        assert_eq!(c.answer("abc_-DEF"), None);
    }

    #[test]
    fn tokens_outside_base64url_are_never_looked_up() {
        let c = Challenges::new();
        c.insert("a.b", "x");
        assert_eq!(c.answer("a.b"), None);
        assert_eq!(c.answer(""), None);
        assert_eq!(c.answer(&"a".repeat(300)), None);
    }
}
