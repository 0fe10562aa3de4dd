//! The bot's logs, at the most verbose level, hold no Telegram id, name, username, email or
//! message text of the people it serves: a whole journey runs with every log line captured, and
//! the capture is searched.
#![allow(clippy::unwrap_used)]

mod harness;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use harness::{Harness, ADMIN, SUPPORT_CHAT};
use store::testing::someone::{
    self, EMAIL, FIRST, LAST, SUPPORT_REPLY, SUPPORT_TEXT, TELEGRAM_ID, USERNAME,
};
use store::testing::TestDb;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every log line of this test binary, at TRACE, for every crate.
fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture = Capture::default();
        let writer = capture.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .init();
        capture
    })
}

async fn a_whole_journey_leaves_nothing_personal_in_the_logs(db: &TestDb) {
    let capture = capture();
    let h = Harness::start(db).await;
    let tg = &h.tg;
    let mut person = tg.user(TELEGRAM_ID, FIRST, Some("en"));
    person.last_name = Some(LAST.into());
    person.username = Some(USERNAME.into());
    tg.register(&person);

    tg.send_text(&person, "/start");
    h.next("sendMessage", TELEGRAM_ID).await;
    h.press(&person, "agree:en").await;
    h.press(&person, "trial").await;
    h.press(&person, "menu").await;
    h.press(&person, "support").await;
    tg.send_text(&person, SUPPORT_TEXT);
    h.next("sendMessage", SUPPORT_CHAT).await;
    let relayed = h.screen(SUPPORT_CHAT);
    // The person's and the operator's updates run side by side: let the ticket be noted
    // before the operator (who in life takes seconds) answers it.
    h.settle().await;
    let operator = tg.user(ADMIN, "Operator", Some("en"));
    tg.reply_text(&operator, SUPPORT_CHAT, relayed.message_id, SUPPORT_REPLY);
    tg.wait_for(|c| {
        c.params
            .str("text")
            .is_some_and(|t| t.contains(SUPPORT_REPLY))
    })
    .await;
    h.press(&person, "support").await;
    h.press(&person, "cancel").await;
    h.press(&person, "privacy").await;
    h.press(&person, "email").await;
    tg.send_text(&person, EMAIL);
    h.next("sendMessage", TELEGRAM_ID).await;
    h.press(&person, "export").await;
    h.press(&person, "delete").await;
    h.press(&person, "delete!").await;
    h.settle().await;

    let logs = String::from_utf8_lossy(&capture.0.lock().unwrap()).into_owned();
    assert!(logs.contains("signed up"), "the capture works");
    for secret in someone::traces() {
        assert!(!logs.contains(&secret), "the logs hold {secret}");
    }
}

store::backend_tests!(a_whole_journey_leaves_nothing_personal_in_the_logs);
