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

/// The events about refunds that are acted on (refunds made in YooKassa's dashboard too).
pub const REFUND_EVENTS: [&str; 1] = ["refund.succeeded"];

/// What a notification body asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotificationBody {
    /// Not a notification at all (400).
    Malformed,
    /// A notification about something we do not track: refunds, other objects (200).
    Ignored,
    /// One of [`PAYMENT_EVENTS`] about the payment with this YooKassa id.
    Payment { id: String },
    /// A refund event: `id` is the refund's id at YooKassa.
    Refund { id: String },
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
    // serde_json checks UTF-8 and escapes only in the strings it keeps: a body with stray bytes
    // or a lone surrogate (`\ude00`) in a part we skip would pass as a notification without
    // being JSON (both found by fuzzing). So the whole body must be JSON first.
    let Ok(text) = std::str::from_utf8(body) else {
        return NotificationBody::Malformed;
    };
    if serde_json::from_str::<serde_json::Value>(text).is_err() {
        return NotificationBody::Malformed;
    }
    let Ok(note) = serde_json::from_str::<Notification>(text) else {
        return NotificationBody::Malformed;
    };
    if note.kind != "notification" {
        return NotificationBody::Malformed;
    }
    if REFUND_EVENTS.contains(&note.event.as_str()) {
        return NotificationBody::Refund { id: note.object.id };
    }
    if !PAYMENT_EVENTS.contains(&note.event.as_str()) {
        return NotificationBody::Ignored;
    }
    NotificationBody::Payment { id: note.object.id }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payment_event_names_the_payment() {
        let body = br#"{"type":"notification","event":"payment.succeeded","object":{"id":"p1"}}"#;
        assert_eq!(
            read_notification(body),
            NotificationBody::Payment { id: "p1".into() }
        );
    }

    #[test]
    fn a_refund_event_names_the_refund() {
        let body = br#"{"type":"notification","event":"refund.succeeded","object":{"id":"r1"}}"#;
        assert_eq!(
            read_notification(body),
            NotificationBody::Refund { id: "r1".into() }
        );
    }

    #[test]
    fn bytes_that_are_not_utf8_are_malformed_even_where_nothing_is_read() {
        let body =
            b"{\"type\":\"notification\",\"event\":\"payment.succeeded\",\"object\":{\"id\":\"p1\",\"card\":{\"x\xff\":1}}}";
        assert_eq!(read_notification(body), NotificationBody::Malformed);
    }

    #[test]
    fn a_lone_surrogate_is_malformed_even_where_nothing_is_read() {
        let body = br#"{"type":"notification","event":"payment.succeeded","object":{"id":"p1","card":{"x":"\ude00"}}}"#;
        assert_eq!(read_notification(body), NotificationBody::Malformed);
    }
}
