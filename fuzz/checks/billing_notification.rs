//! What must hold for the parser of YooKassa notification bodies
//! (`billing::fuzzing::notification_body::read_notification`) on any bytes POSTed to the
//! webhook. Shared by the fuzz target and a stable test; the includer provides the parser's
//! module as `crate::notification_body`.

use crate::notification_body::{
    read_notification, NotificationBody, PAYMENT_EVENTS, REFUND_EVENTS,
};
use serde_json::Value;

/// Reads `data`; panics (a finding) if the parser's contract breaks.
pub fn run(data: &[u8]) {
    let read = read_notification(data);
    // The same verdict as reading the JSON generically and looking at the three fields.
    let expected = match serde_json::from_slice::<Value>(data) {
        Err(_) => NotificationBody::Malformed,
        Ok(value) => {
            let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
            let kind = text(value.get("type"));
            let event = text(value.get("event"));
            let id = text(value.get("object").and_then(|o| o.get("id")));
            match (kind, event, id) {
                (Some(kind), Some(event), Some(id))
                    if value.is_object() && value["object"].is_object() =>
                {
                    if kind != "notification" {
                        NotificationBody::Malformed
                    } else if REFUND_EVENTS.contains(&event.as_str()) {
                        NotificationBody::Refund { id }
                    } else if PAYMENT_EVENTS.contains(&event.as_str()) {
                        NotificationBody::Payment { id }
                    } else {
                        NotificationBody::Ignored
                    }
                }
                _ => NotificationBody::Malformed,
            }
        }
    };
    if read == NotificationBody::Malformed && expected != NotificationBody::Malformed {
        // The typed reader also refuses a body naming one of its fields twice, which the
        // generic one takes the last of; written again without duplicates, they agree.
        let value = serde_json::from_slice::<Value>(data).expect("parsed above");
        assert_eq!(
            read_notification(value.to_string().as_bytes()),
            expected,
            "typed and generic reading disagree"
        );
    } else {
        assert_eq!(read, expected, "typed and generic reading disagree");
    }
    // What was read survives being sent again in a minimal body.
    if let NotificationBody::Payment { id } | NotificationBody::Refund { id } = &read {
        let event = serde_json::from_slice::<Value>(data).expect("parsed above")["event"].clone();
        let again = serde_json::json!({
            "type": "notification",
            "event": event,
            "object": { "id": id },
        });
        assert_eq!(read_notification(again.to_string().as_bytes()), read);
    }
}
