//! Telegram's JSON shapes for the objects the emulator hands out: users, chats, messages,
//! callback queries.

use serde_json::{json, Value};

use crate::{BOT_ID, BOT_USERNAME};

/// A person on Telegram, as a test describes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TgUser {
    pub id: i64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub language_code: Option<String>,
}

impl TgUser {
    /// The `User` object; absent optional fields are left out, as Telegram does.
    pub fn to_json(&self) -> Value {
        let mut user = json!({ "id": self.id, "is_bot": false, "first_name": self.first_name });
        if let Some(v) = &self.last_name {
            user["last_name"] = json!(v);
        }
        if let Some(v) = &self.username {
            user["username"] = json!(v);
        }
        if let Some(v) = &self.language_code {
            user["language_code"] = json!(v);
        }
        user
    }

    /// The `Chat` object of this person's private chat with the bot.
    pub fn private_chat(&self) -> Value {
        let mut chat = json!({ "id": self.id, "type": "private", "first_name": self.first_name });
        if let Some(v) = &self.last_name {
            chat["last_name"] = json!(v);
        }
        if let Some(v) = &self.username {
            chat["username"] = json!(v);
        }
        chat
    }
}

pub fn bot_user() -> Value {
    json!({
        "id": BOT_ID, "is_bot": true, "first_name": "milly",
        "username": BOT_USERNAME,
    })
}

/// The reply to `getMe`.
pub fn get_me() -> Value {
    let mut me = bot_user();
    me["can_join_groups"] = json!(false);
    me["can_read_all_group_messages"] = json!(false);
    me["supports_inline_queries"] = json!(false);
    me["can_connect_to_business"] = json!(false);
    me["has_main_web_app"] = json!(false);
    me
}

pub fn group_chat(id: i64, title: &str) -> Value {
    json!({ "id": id, "type": "supergroup", "title": title })
}

pub fn callback_query(id: &str, from: &TgUser, message: Value, data: &str) -> Value {
    let chat_instance = format!("ci{}", from.id);
    let mut query = json!({
        "id": id, "from": from.to_json(), "chat_instance": chat_instance, "data": data,
    });
    if !message.is_null() {
        query["message"] = message;
    }
    query
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_optional_fields_are_left_out() {
        let user = TgUser {
            id: 5,
            first_name: "A".into(),
            last_name: None,
            username: None,
            language_code: Some("en".into()),
        };
        let json = user.to_json();
        assert!(json.get("last_name").is_none());
        assert_eq!(json["language_code"], "en");
        assert_eq!(user.private_chat()["type"], "private");
    }
}
