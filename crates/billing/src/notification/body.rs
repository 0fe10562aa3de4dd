//! The parser of a YooKassa notification's body: which event, about which object. Nothing
//! else in the body is read, and nothing read is believed (the payment's status comes from the
//! API). Plain serde only, so the fuzz target in `fuzz/` compiles this file on its own.

use serde::Deserialize;

/// The events about payments that are acted on (after asking the API).
pub const PAYMENT_EVENTS: [&str; 3] = [
    "payment.succeeded",
    "payment.canceled",
    "payment.waiting_for_capture",
];

/// What a notification body asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotificationBody {
    /// Not a notification at all (400).
    Malformed,
    /// A notification about something we do not track: refunds, other objects (200).
    Ignored,
    /// One of [`PAYMENT_EVENTS`] about the payment with this YooKassa id.
    Payment { id: String },
}

/// The only parts of a notification we look at. Everything else in the body is ignored.
#[derive(Deserialize)]
struct Notification {
    #[serde(rename = "type")]
    kind: String,
    event: String,
    object: NotificationObject,
}

#[derive(Deserialize)]
struct NotificationObject {
    id: String,
}

/// Reads a notification body.
pub fn read_notification(body: &[u8]) -> NotificationBody {
    let Ok(note) = serde_json::from_slice::<Notification>(body) else {
        return NotificationBody::Malformed;
    };
    if note.kind != "notification" {
        return NotificationBody::Malformed;
    }
    if !PAYMENT_EVENTS.contains(&note.event.as_str()) {
        return NotificationBody::Ignored;
    }
    NotificationBody::Payment { id: note.object.id }
}
