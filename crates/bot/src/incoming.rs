//! Reading a `getUpdates` answer one update at a time (sans-I/O). `teloxide-core` parses a
//! whole batch at once, so one update it cannot read (a lone UTF-16 surrogate in a text, an id
//! out of range, nesting deeper than serde_json allows) failed the whole call and the offset
//! never moved: every update behind it was stuck. Here the batch is split into raw JSON values
//! first and each is parsed on its own; an unreadable one is reported with its id (if even that
//! can be read) so the offset can move past it.

use serde::Deserialize;
use serde_json::value::RawValue;
use teloxide_core::types::{Update, UpdateKind};

/// One entry of a batch.
#[derive(Debug)]
pub enum Incoming {
    Update(Box<Update>),
    /// Not an update the library can parse; `id` if its `update_id` could be read.
    Unreadable {
        id: Option<i64>,
    },
}

/// What a `getUpdates` answer says.
#[derive(Debug)]
pub enum Answer {
    Updates(Vec<Incoming>),
    /// 429: wait this many seconds.
    RetryAfter(u64),
    /// Any other refusal, or a body that is not the Bot API's envelope.
    Failed,
}

#[derive(Deserialize)]
struct Envelope<'a> {
    ok: bool,
    #[serde(borrow, default)]
    result: Option<Vec<&'a RawValue>>,
    #[serde(default)]
    parameters: Option<Parameters>,
}

#[derive(Deserialize)]
struct Parameters {
    #[serde(default)]
    retry_after: Option<u64>,
}

/// Just the id, skipping everything else without building it.
#[derive(Deserialize)]
struct IdOnly {
    update_id: i64,
}

/// Reads a `getUpdates` response body.
pub fn read_answer(body: &str) -> Answer {
    let Ok(envelope) = serde_json::from_str::<Envelope<'_>>(body) else {
        return Answer::Failed;
    };
    if !envelope.ok {
        return match envelope.parameters.and_then(|p| p.retry_after) {
            Some(secs) => Answer::RetryAfter(secs),
            None => Answer::Failed,
        };
    }
    let Some(result) = envelope.result else {
        return Answer::Failed;
    };
    Answer::Updates(result.into_iter().map(read_update).collect())
}

/// Parses one update; `UpdateKind::Error` (a known field with a shape the library does not
/// know, or a kind it has never heard of) counts as unreadable too.
pub fn read_update(raw: &RawValue) -> Incoming {
    match serde_json::from_str::<Update>(raw.get()) {
        Ok(update) if !matches!(update.kind, UpdateKind::Error(_)) => {
            Incoming::Update(Box::new(update))
        }
        Ok(update) => Incoming::Unreadable {
            id: Some(i64::from(update.id.0)),
        },
        Err(_) => Incoming::Unreadable {
            id: serde_json::from_str::<IdOnly>(raw.get())
                .ok()
                .map(|i| i.update_id),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"update_id":1,"message":{"message_id":1,"date":1,
        "chat":{"id":5,"type":"private","first_name":"A"},
        "from":{"id":5,"is_bot":false,"first_name":"A"},"text":"hi"}}"#;

    fn batch(updates: &[&str]) -> String {
        format!(r#"{{"ok":true,"result":[{}]}}"#, updates.join(","))
    }

    fn ids(answer: Answer) -> Vec<(Option<i64>, bool)> {
        let Answer::Updates(updates) = answer else {
            panic!("not updates: {answer:?}");
        };
        updates
            .iter()
            .map(|u| match u {
                Incoming::Update(update) => (Some(i64::from(update.id.0)), true),
                Incoming::Unreadable { id } => (*id, false),
            })
            .collect()
    }

    #[test]
    fn a_lone_surrogate_spoils_only_its_own_update() {
        let bad = r#"{"update_id":2,"message":{"text":"\ud800"}}"#;
        assert!(serde_json::from_str::<Vec<Update>>(&format!("[{GOOD},{bad}]")).is_err());
        let good3 = GOOD.replace(r#""update_id":1"#, r#""update_id":3"#);
        assert_eq!(
            ids(read_answer(&batch(&[GOOD, bad, &good3]))),
            vec![(Some(1), true), (Some(2), false), (Some(3), true)]
        );
    }

    #[test]
    fn nesting_deeper_than_serde_allows_is_skipped_with_its_id() {
        let deep = format!(
            r#"{{"update_id":2,"message":{{"x":{}{}}}}}"#,
            "[".repeat(300),
            "]".repeat(300)
        );
        assert_eq!(
            ids(read_answer(&batch(&[GOOD, &deep]))),
            vec![(Some(1), true), (Some(2), false)]
        );
    }

    #[test]
    fn a_field_of_the_wrong_type_or_an_unknown_kind_is_unreadable() {
        let wrong = r#"{"update_id":2,"message":{"chat":"not a chat"}}"#;
        let unknown = r#"{"update_id":3,"brand_new_kind":{"x":1}}"#;
        let no_id = r#"{"message":{}}"#;
        assert_eq!(
            ids(read_answer(&batch(&[wrong, unknown, no_id]))),
            vec![(Some(2), false), (Some(3), false), (None, false)]
        );
    }

    #[test]
    fn flood_control_and_refusals_are_told_apart() {
        let slow = r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7",
            "parameters":{"retry_after":7}}"#;
        assert!(matches!(read_answer(slow), Answer::RetryAfter(7)));
        let conflict = r#"{"ok":false,"error_code":409,"description":"Conflict"}"#;
        assert!(matches!(read_answer(conflict), Answer::Failed));
        assert!(matches!(read_answer("<html>"), Answer::Failed));
    }
}
