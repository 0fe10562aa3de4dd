//! What arrives from Telegram's login, as the fields its signature covers: the `tgAuthResult`
//! of the redirect flow (base64 of a JSON object, read from the fragment by the page's script)
//! or the query of a bot's login button. Only parsed here; `app` checks the signature.

use std::collections::BTreeMap;

use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use percent_encoding::percent_decode_str;

/// The most bytes taken from either form (Telegram's are a few hundred).
const MAX_LEN: usize = 4096;

/// The fields of a `tgAuthResult` value; `None` when it is not base64 of a JSON object of
/// strings and numbers.
pub fn from_tg_auth_result(raw: &str) -> Option<BTreeMap<String, String>> {
    if raw.is_empty() || raw.len() > MAX_LEN {
        return None;
    }
    let text = percent_decode_str(raw).decode_utf8().ok()?;
    let text = text.trim_end_matches('=');
    let bytes = STANDARD_NO_PAD
        .decode(text)
        .or_else(|_| URL_SAFE_NO_PAD.decode(text))
        .ok()?;
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&bytes).ok()?;
    object
        .into_iter()
        .map(|(name, value)| {
            let value = match value {
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                _ => return None,
            };
            Some((name, value))
        })
        .collect()
}

/// The fields of a login button's query string; `None` when it is not one.
pub fn from_query(query: &str) -> Option<BTreeMap<String, String>> {
    if query.is_empty() || query.len() > MAX_LEN {
        return None;
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
    let fields: BTreeMap<String, String> = pairs.into_iter().collect();
    fields.contains_key("hash").then_some(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;

    #[test]
    fn a_redirect_result_decodes_to_the_signed_fields() {
        let json = r#"{"id":424242,"first_name":"Анна","username":"anna","photo_url":"https:\/\/t.me\/i\/a.jpg","auth_date":1800000000,"hash":"ab"}"#;
        let fields = from_tg_auth_result(&STANDARD.encode(json)).unwrap();
        assert_eq!(fields["id"], "424242");
        assert_eq!(fields["first_name"], "Анна");
        assert_eq!(fields["photo_url"], "https://t.me/i/a.jpg");
        assert_eq!(fields["auth_date"], "1800000000");
        let url_safe = URL_SAFE_NO_PAD.encode(json);
        assert_eq!(from_tg_auth_result(&url_safe), Some(fields.clone()));
        let escaped = STANDARD.encode(json).replace('=', "%3D");
        assert_eq!(from_tg_auth_result(&escaped), Some(fields));
    }

    #[test]
    fn anything_else_is_nothing() {
        for junk in [
            "",
            "%%%",
            "bm90IGpzb24",
            &STANDARD.encode("[1,2]"),
            &STANDARD.encode(r#"{"a":{"b":1}}"#),
        ] {
            assert_eq!(from_tg_auth_result(junk), None, "{junk}");
        }
        assert_eq!(from_tg_auth_result(&"A".repeat(5000)), None);
        assert_eq!(from_query("id=1&auth_date=2"), None);
        let q = from_query("id=1&auth_date=2&hash=ff&first_name=A%20B").unwrap();
        assert_eq!(q["first_name"], "A B");
    }
}
