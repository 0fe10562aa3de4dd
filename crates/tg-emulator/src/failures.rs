//! Errors a test can make the emulator answer with, in the exact shape Telegram uses.

use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// 429 Too Many Requests with `parameters.retry_after` seconds.
    RetryAfter(u32),
    /// 403: the person blocked the bot.
    Blocked,
    /// 403: the person deleted their Telegram account.
    Deactivated,
    /// 400: the chat does not exist (or the bot never met it).
    ChatNotFound,
    /// 500 Internal Server Error.
    ServerError,
}

impl Failure {
    /// The HTTP status and the JSON body Telegram sends for this error.
    pub fn response(self) -> (u16, Value) {
        match self {
            Failure::RetryAfter(secs) => (
                429,
                json!({
                    "ok": false, "error_code": 429,
                    "description": format!("Too Many Requests: retry after {secs}"),
                    "parameters": { "retry_after": secs },
                }),
            ),
            Failure::Blocked => error(403, "Forbidden: bot was blocked by the user"),
            Failure::Deactivated => error(403, "Forbidden: user is deactivated"),
            Failure::ChatNotFound => error(400, "Bad Request: chat not found"),
            Failure::ServerError => error(500, "Internal Server Error"),
        }
    }
}

/// `{"ok":false,"error_code":code,"description":...}`.
pub(crate) fn error(code: u16, description: &str) -> (u16, Value) {
    (
        code,
        json!({ "ok": false, "error_code": code, "description": description }),
    )
}

/// A pending rule: the next `remaining` matching calls fail.
#[derive(Debug, Clone)]
pub(crate) struct FailureRule {
    pub method: Option<String>,
    /// Only calls addressed to this chat, if set.
    pub chat_id: Option<i64>,
    pub remaining: u32,
    pub failure: Failure,
}

impl FailureRule {
    /// Whether this rule applies to a call of `method` to `chat_id`; `getUpdates` only when
    /// named.
    pub fn matches(&self, method: &str, chat_id: Option<i64>) -> bool {
        self.remaining > 0
            && (self.chat_id.is_none() || self.chat_id == chat_id)
            && match &self.method {
                Some(m) => m == method,
                None => method != "getUpdates",
            }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retry_after_carries_its_seconds_in_parameters() {
        let (status, body) = Failure::RetryAfter(3).response();
        assert_eq!(status, 429);
        assert_eq!(body["parameters"]["retry_after"], 3);
        assert_eq!(body["ok"], false);
    }

    #[test]
    fn a_deleted_account_is_a_403_like_a_block() {
        let (status, body) = Failure::Deactivated.response();
        assert_eq!(status, 403);
        assert_eq!(body["error_code"], 403);
        assert_eq!(body["description"], "Forbidden: user is deactivated");
    }

    #[test]
    fn rules_without_a_method_spare_get_updates() {
        let rule = FailureRule {
            method: None,
            chat_id: None,
            remaining: 1,
            failure: Failure::Blocked,
        };
        assert!(rule.matches("sendMessage", Some(1)));
        assert!(!rule.matches("getUpdates", None));
        let spent = FailureRule {
            remaining: 0,
            ..rule
        };
        assert!(!spent.matches("sendMessage", Some(1)));
    }
}
