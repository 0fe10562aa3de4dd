//! A method's parameters, however they arrived: a JSON body, a form, a query string or multipart.
//! Like Telegram, a form value that holds JSON (`reply_markup`) or a number is read as such.

use serde_json::{Map, Value};

/// The parameters of one call, as JSON values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params(pub Map<String, Value>);

impl Params {
    /// Parameters from string pairs (form, query string, multipart text fields).
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Params {
        Params(
            pairs
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    /// An integer given as a JSON number or a numeric string.
    pub fn i64(&self, name: &str) -> Option<i64> {
        match self.get(name)? {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    pub fn str(&self, name: &str) -> Option<String> {
        match self.get(name)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        match self.get(name)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
    }

    /// An object or array given as JSON or as a string holding JSON.
    pub fn json(&self, name: &str) -> Option<Value> {
        match self.get(name)? {
            Value::String(s) => serde_json::from_str(s).ok(),
            other => Some(other.clone()),
        }
    }

    /// Merges in another set (query string under a body); later values win.
    pub fn extend(&mut self, other: Params) {
        self.0.extend(other.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_and_json_are_read_from_form_strings() {
        let p = Params::from_pairs([
            ("chat_id".to_owned(), "-100123".to_owned()),
            (
                "reply_markup".to_owned(),
                r#"{"inline_keyboard":[]}"#.to_owned(),
            ),
        ]);
        assert_eq!(p.i64("chat_id"), Some(-100_123));
        assert_eq!(p.json("reply_markup"), Some(json!({"inline_keyboard": []})));
    }

    #[test]
    fn null_counts_as_absent() {
        let Value::Object(map) = json!({"offset": null, "timeout": 5}) else {
            unreachable!()
        };
        let p = Params(map);
        assert_eq!(p.i64("offset"), None);
        assert_eq!(p.i64("timeout"), Some(5));
    }
}
