//! Every button a person can reach leads somewhere, in both languages, and nothing the bot says
//! looks like debug output: starting from the menu, every button found on any screen is pressed
//! and must change what the person sees.
#![allow(clippy::unwrap_used)]

mod harness;

use std::collections::{BTreeSet, VecDeque};

use domain::TelegramId;
use harness::Harness;
use store::testing::TestDb;

/// What the bot does visibly when a button is pressed.
const VISIBLE: [&str; 5] = [
    "editMessageText",
    "sendMessage",
    "sendPhoto",
    "sendDocument",
    "sendInvoice",
];

/// Buttons left for last or out: erasing the account ends the walk.
const LAST: &str = "delete!";

async fn every_button_leads_somewhere_in_both_languages(db: &TestDb) {
    let h = Harness::start(db).await;
    for (id, code) in [(4001, "ru"), (4002, "en")] {
        let person = h.tg.user(id, "Walker", Some(code));
        h.tg.send_text(&person, "/start");
        h.next("sendMessage", id).await;
        h.press(&person, &format!("agree:{code}")).await;
        let user = db
            .store
            .user_by_telegram(TelegramId(id))
            .await
            .unwrap()
            .unwrap();
        // With a subscription, so My subscription shows its full screen.
        db.grant(user.id, "manual", 30, time::OffsetDateTime::now_utc())
            .await;

        let mut seen = BTreeSet::new();
        let mut queue: VecDeque<String> = VecDeque::new();
        let mut pressed = 0;
        h.tg.send_text(&person, "/menu");
        h.next("sendMessage", id).await;
        queue.extend(h.screen(id).buttons());
        while let Some(data) = queue.pop_front() {
            // Language buttons would switch the walk to the other language.
            if data == LAST || data.starts_with("lang:") || !seen.insert(data.clone()) {
                continue;
            }
            h.tg.send_text(&person, "/menu");
            h.next("sendMessage", id).await;
            let path = route_to(&data);
            for step in path {
                h.press(&person, step).await;
            }
            let before = h.tg.calls().len();
            h.press(&person, &data).await;
            let after = h.tg.calls();
            let shown: Vec<&str> = after[before..]
                .iter()
                .filter(|c| VISIBLE.contains(&c.method.as_str()))
                .filter(|c| c.params.i64("chat_id") == Some(id))
                .map(|c| c.method.as_str())
                .collect();
            assert!(
                !shown.is_empty(),
                "{code}: the button {data} did nothing visible"
            );
            let screen = h.screen(id);
            let text = screen.text();
            for debug in ["Some(", "None", "Err(", "Ok(", "{", "}", "\\n"] {
                assert!(
                    !text.contains(debug),
                    "{code}: {data} shows {debug}: {text}"
                );
            }
            for button in screen.buttons() {
                if !seen.contains(&button) {
                    queue.push_back(button);
                }
            }
            pressed += 1;
        }
        assert!(
            pressed >= 15,
            "{code}: only {pressed} buttons were reached: {seen:?}"
        );
        for expected in [
            "buy", "sub", "trial", "support", "privacy", "lang", "qr", "rotate",
        ] {
            assert!(
                seen.contains(expected),
                "{code}: {expected} was never reached"
            );
        }

        // And the last one: erasing the account, from Privacy.
        h.tg.send_text(&person, "/menu");
        h.next("sendMessage", id).await;
        h.press(&person, "privacy").await;
        h.press(&person, "delete").await;
        h.press(&person, LAST).await;
        assert!(db
            .store
            .user_by_telegram(TelegramId(id))
            .await
            .unwrap()
            .is_none());
    }
}

/// The presses from the menu to the screen that shows `data`.
fn route_to(data: &str) -> Vec<&'static str> {
    match data {
        "qr" | "rotate" | "rotate!" => vec!["sub"],
        d if d.starts_with("guide:") => vec!["sub"],
        d if d.starts_with("plan:") => vec!["buy"],
        "export" | "email" | "email-" | "delete" | "withdraw" => vec!["privacy"],
        "cancel" => vec!["support"],
        _ => vec![],
    }
}

store::backend_tests!(every_button_leads_somewhere_in_both_languages);
