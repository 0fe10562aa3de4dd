//! The Bot API methods the emulator implements, each checking its required parameters the way
//! Telegram does and returning the `result` Telegram would.

use std::time::Duration;

use serde_json::{json, Value};

use crate::html;
use crate::shapes;
use crate::state::State;
use crate::{Params, UploadedFile};

/// The longest `getUpdates` wait Telegram allows.
const MAX_POLL_TIMEOUT_SECS: i64 = 50;

type Outcome = Result<Value, (u16, String)>;

fn bad(description: &str) -> (u16, String) {
    (400, format!("Bad Request: {description}"))
}

pub(crate) async fn call(
    state: &State,
    method: &str,
    params: &Params,
    files: &[UploadedFile],
) -> Outcome {
    match canonical(method) {
        "getMe" => Ok(shapes::get_me()),
        "getUpdates" => Err((500, "getUpdates is answered as text".into())),
        "sendMessage" => send_message(state, params),
        "editMessageText" => edit_text(state, params),
        "editMessageReplyMarkup" => edit_markup(state, params),
        "sendPhoto" => send_file(state, params, files, "photo"),
        "sendDocument" => send_file(state, params, files, "document"),
        "sendInvoice" => send_invoice(state, params),
        "createInvoiceLink" => create_invoice_link(state, params),
        "editUserStarSubscription" => edit_star_subscription(state, params),
        "deleteMessage" => delete_message(state, params),
        "answerCallbackQuery" => required(params, &["callback_query_id"]),
        "answerPreCheckoutQuery" => answer_pre_checkout(params),
        "refundStarPayment" => required(params, &["user_id", "telegram_payment_charge_id"]),
        "setMyCommands" => required(params, &["commands"]),
        "deleteMyCommands" | "sendChatAction" => Ok(json!(true)),
        "setWebhook" => {
            let url = params
                .str("url")
                .ok_or_else(|| bad("bad webhook: URL is empty"))?;
            state.set_webhook((!url.is_empty()).then_some(url));
            Ok(json!(true))
        }
        "deleteWebhook" => {
            state.set_webhook(None);
            Ok(json!(true))
        }
        "getWebhookInfo" => Ok(json!({
            "url": state.webhook().unwrap_or_default(),
            "has_custom_certificate": false, "pending_update_count": 0,
        })),
        _ => Err((404, "Not Found".into())),
    }
}

/// The methods the emulator knows, spelled as Telegram documents them.
const METHODS: &[&str] = &[
    "getMe",
    "getUpdates",
    "sendMessage",
    "editMessageText",
    "editMessageReplyMarkup",
    "sendPhoto",
    "sendDocument",
    "sendInvoice",
    "createInvoiceLink",
    "editUserStarSubscription",
    "deleteMessage",
    "answerCallbackQuery",
    "answerPreCheckoutQuery",
    "refundStarPayment",
    "setMyCommands",
    "deleteMyCommands",
    "sendChatAction",
    "setWebhook",
    "deleteWebhook",
    "getWebhookInfo",
];

/// Telegram treats method names case-insensitively (`DeleteWebhook` is `deleteWebhook`).
pub(crate) fn canonical(method: &str) -> &str {
    METHODS
        .iter()
        .find(|m| m.eq_ignore_ascii_case(method))
        .copied()
        .unwrap_or(method)
}

fn required(params: &Params, names: &[&str]) -> Outcome {
    for name in names {
        if params.get(name).is_none() {
            return Err(bad(&format!("parameter \"{name}\" is required")));
        }
    }
    Ok(json!(true))
}

/// Long polling: the updates are JSON text, handed out exactly as injected.
pub(crate) async fn get_updates(
    state: &State,
    params: &Params,
) -> Result<Vec<String>, (u16, String)> {
    if state.webhook().is_some() {
        return Err((
            409,
            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook \
             to delete the webhook first"
                .into(),
        ));
    }
    let offset = params.i64("offset");
    let limit = params.i64("limit").unwrap_or(100).clamp(1, 100);
    let timeout = params
        .i64("timeout")
        .unwrap_or(0)
        .clamp(0, MAX_POLL_TIMEOUT_SECS);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout.unsigned_abs());
    loop {
        let notified = state.updates_changed.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let updates = state.take_updates(offset, usize::try_from(limit).unwrap_or(100));
        if !updates.is_empty() || tokio::time::Instant::now() >= deadline {
            return Ok(updates);
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            return Ok(Vec::new());
        }
    }
}

fn chat(state: &State, params: &Params) -> Result<(i64, Value), (u16, String)> {
    let chat_id = params
        .i64("chat_id")
        .ok_or_else(|| bad("chat_id is empty"))?;
    let chat = state
        .chat_json(chat_id)
        .ok_or_else(|| bad("chat not found"))?;
    Ok((chat_id, chat))
}

/// Text and entities from `text`/`caption` with `parse_mode` or explicit entities.
fn formatted(params: &Params, field: &str) -> Result<Value, (u16, String)> {
    let key = if field == "text" {
        "entities"
    } else {
        "caption_entities"
    };
    let raw = params.str(field).unwrap_or_default();
    let mut out = json!({});
    if params.str("parse_mode").as_deref() == Some("HTML") {
        let (text, entities) = html::parse(&raw).map_err(|e| bad(&e))?;
        out[field] = json!(text);
        if !entities.is_empty() {
            out[key] = json!(entities);
        }
    } else {
        out[field] = json!(raw);
        if let Some(entities) = params.json(key) {
            out[key] = entities;
        }
    }
    Ok(out)
}

/// Telegram echoes only inline keyboards back in the message.
fn inline_markup(params: &Params) -> Option<Value> {
    params
        .json("reply_markup")
        .filter(|m| m.get("inline_keyboard").is_some())
}

fn send_message(state: &State, params: &Params) -> Outcome {
    let (chat_id, chat) = chat(state, params)?;
    if params.str("text").is_none_or(|t| t.trim().is_empty()) {
        return Err(bad("message text is empty"));
    }
    let mut content = formatted(params, "text")?;
    if let Some(markup) = inline_markup(params) {
        content["reply_markup"] = markup;
    }
    Ok(state.record_bot_message(chat_id, chat, content))
}

fn message_ref(params: &Params) -> Result<(i64, i64), (u16, String)> {
    let chat_id = params
        .i64("chat_id")
        .ok_or_else(|| bad("chat_id is empty"))?;
    let message_id = params
        .i64("message_id")
        .ok_or_else(|| bad("message identifier is not specified"))?;
    Ok((chat_id, message_id))
}

const NOT_MODIFIED: &str = "message is not modified: specified new message content and reply \
     markup are exactly the same as a content and reply markup of the current message";

fn edit_text(state: &State, params: &Params) -> Outcome {
    let (chat_id, message_id) = message_ref(params)?;
    if params.str("text").is_none_or(|t| t.trim().is_empty()) {
        return Err(bad("message text is empty"));
    }
    let content = formatted(params, "text")?;
    let markup = inline_markup(params);
    let current = state
        .bot_message_json(chat_id, message_id)
        .ok_or_else(|| bad("message to edit not found"))?;
    if current.get("text").is_none() {
        return Err(bad("there is no text in the message to edit"));
    }
    if current["text"] == content["text"]
        && current.get("entities") == content.get("entities")
        && current.get("reply_markup") == markup.as_ref()
    {
        return Err(bad(NOT_MODIFIED));
    }
    let edited = state.edit_bot_message(chat_id, message_id, |m| {
        m["text"] = content["text"].clone();
        set_or_remove(m, "entities", content.get("entities").cloned());
        set_or_remove(m, "reply_markup", markup);
    });
    edited.ok_or_else(|| bad("message to edit not found"))
}

fn edit_markup(state: &State, params: &Params) -> Outcome {
    let (chat_id, message_id) = message_ref(params)?;
    let markup = inline_markup(params);
    let current = state
        .bot_message_json(chat_id, message_id)
        .ok_or_else(|| bad("message to edit not found"))?;
    if current.get("reply_markup") == markup.as_ref() {
        return Err(bad(NOT_MODIFIED));
    }
    let edited = state.edit_bot_message(chat_id, message_id, |m| {
        set_or_remove(m, "reply_markup", markup);
    });
    edited.ok_or_else(|| bad("message to edit not found"))
}

fn set_or_remove(message: &mut Value, key: &str, value: Option<Value>) {
    if let Value::Object(m) = message {
        match value {
            Some(v) => {
                m.insert(key.to_owned(), v);
            }
            None => {
                m.remove(key);
            }
        }
    }
}

fn send_file(state: &State, params: &Params, files: &[UploadedFile], field: &str) -> Outcome {
    let (chat_id, chat) = chat(state, params)?;
    let upload = files.iter().find(|f| f.field == field);
    let (size, file_name) = match (upload, params.str(field)) {
        (Some(file), _) => (file.bytes.len(), file.file_name.clone()),
        // `attach://name` refers to another multipart field.
        (None, Some(reference)) => match reference.strip_prefix("attach://") {
            Some(name) => {
                let file = files
                    .iter()
                    .find(|f| f.field == name)
                    .ok_or_else(|| bad("wrong file identifier/HTTP URL specified"))?;
                (file.bytes.len(), file.file_name.clone())
            }
            None => (0, None),
        },
        (None, None) => return Err(bad(&format!("there is no {field} in the request"))),
    };
    let file_id = format!("{field}-{chat_id}-{}", state.next_message_id(0));
    let mut content = formatted(params, "caption")?;
    if content["caption"] == json!("") {
        set_or_remove(&mut content, "caption", None);
    }
    if field == "photo" {
        content["photo"] = json!([{
            "file_id": file_id, "file_unique_id": file_id, "width": 512, "height": 512,
            "file_size": size,
        }]);
    } else {
        let mut document =
            json!({ "file_id": file_id, "file_unique_id": file_id, "file_size": size });
        if let Some(name) = file_name {
            document["file_name"] = json!(name);
        }
        content["document"] = document;
    }
    if let Some(markup) = inline_markup(params) {
        content["reply_markup"] = markup;
    }
    Ok(state.record_bot_message(chat_id, chat, content))
}

fn send_invoice(state: &State, params: &Params) -> Outcome {
    let (chat_id, chat) = chat(state, params)?;
    for name in ["title", "description", "payload", "currency", "prices"] {
        if params.get(name).is_none() {
            return Err(bad(&format!("parameter \"{name}\" is required")));
        }
    }
    let currency = params.str("currency").unwrap_or_default();
    let prices = params
        .json("prices")
        .and_then(|p| p.as_array().cloned())
        .filter(|p| !p.is_empty())
        .ok_or_else(|| bad("PRICES_EMPTY"))?;
    if currency == "XTR" {
        if params.str("provider_token").is_some_and(|t| !t.is_empty()) {
            return Err(bad("PAYMENT_PROVIDER_INVALID"));
        }
        if prices.len() != 1 {
            return Err(bad("STARS_INVOICE_INVALID"));
        }
    }
    let total: i64 = prices.iter().filter_map(|p| p["amount"].as_i64()).sum();
    if total <= 0 {
        return Err(bad("TOTAL_AMOUNT_INVALID"));
    }
    let mut content = json!({ "invoice": {
        "title": params.str("title"), "description": params.str("description"),
        "start_parameter": params.str("start_parameter").unwrap_or_default(),
        "currency": currency, "total_amount": total,
    }});
    if let Some(markup) = inline_markup(params) {
        content["reply_markup"] = markup;
    }
    Ok(state.record_bot_message(chat_id, chat, content))
}

/// The length of the only subscription period Telegram accepts: 30 days.
const STAR_SUBSCRIPTION_PERIOD: i64 = 2_592_000;

/// `createInvoiceLink`: a link to an invoice; with `subscription_period` a Stars subscription
/// (XTR only, exactly 30 days), as Telegram requires.
fn create_invoice_link(state: &State, params: &Params) -> Outcome {
    for name in ["title", "description", "payload", "currency", "prices"] {
        if params.get(name).is_none() {
            return Err(bad(&format!("parameter \"{name}\" is required")));
        }
    }
    let currency = params.str("currency").unwrap_or_default();
    let prices = params
        .json("prices")
        .and_then(|p| p.as_array().cloned())
        .filter(|p| !p.is_empty())
        .ok_or_else(|| bad("PRICES_EMPTY"))?;
    if currency == "XTR" && prices.len() != 1 {
        return Err(bad("STARS_INVOICE_INVALID"));
    }
    if let Some(period) = params.get("subscription_period") {
        let period = params
            .i64("subscription_period")
            .or_else(|| period.as_i64());
        if period != Some(STAR_SUBSCRIPTION_PERIOD) {
            return Err(bad("SUBSCRIPTION_PERIOD_INVALID"));
        }
        if currency != "XTR" {
            return Err(bad("SUBSCRIPTION_CURRENCY_INVALID"));
        }
    }
    Ok(json!(format!(
        "https://t.me/$invoice{}",
        state.next_query_id()
    )))
}

/// `editUserStarSubscription`: the bot cancels (or re-enables) a person's subscription.
fn edit_star_subscription(state: &State, params: &Params) -> Outcome {
    required(
        params,
        &["user_id", "telegram_payment_charge_id", "is_canceled"],
    )?;
    let user = params
        .i64("user_id")
        .ok_or_else(|| bad("USER_ID_INVALID"))?;
    let charge = params.str("telegram_payment_charge_id").unwrap_or_default();
    let canceled = params.bool("is_canceled").unwrap_or(false);
    if !state.edit_star_subscription(user, &charge, canceled) {
        return Err(bad("CHARGE_ID_INVALID"));
    }
    Ok(json!(true))
}

fn answer_pre_checkout(params: &Params) -> Outcome {
    required(params, &["pre_checkout_query_id", "ok"])?;
    if params.bool("ok") == Some(false) && params.str("error_message").is_none() {
        return Err(bad("error_message is required when ok is false"));
    }
    Ok(json!(true))
}

fn delete_message(state: &State, params: &Params) -> Outcome {
    let (chat_id, message_id) = message_ref(params)?;
    if state.delete_bot_message(chat_id, message_id) {
        Ok(json!(true))
    } else {
        Err(bad("message to delete not found"))
    }
}
