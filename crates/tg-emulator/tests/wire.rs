//! The emulator speaks the Bot API's wire format: what a client sends and gets back over HTTP.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tg_emulator::{Emulator, Failure};

const TOKEN: &str = "123:test-token";

async fn post(tg: &Emulator, method: &str, body: Value) -> (u16, Value) {
    let url = format!("{}/bot{TOKEN}/{method}", tg.api_url());
    let resp = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

#[tokio::test]
async fn get_me_answers_in_telegrams_envelope_and_wrong_tokens_are_unauthorized() {
    let tg = Emulator::start(TOKEN).await.unwrap();
    let (status, body) = post(&tg, "getMe", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(body["ok"], true);
    assert_eq!(body["result"]["is_bot"], true);
    let url = format!("{}/botWRONG/getMe", tg.api_url());
    let resp = reqwest::get(url).await.unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body,
        json!({"ok": false, "error_code": 401, "description": "Unauthorized"})
    );
}

#[tokio::test]
async fn form_encoded_messages_are_recorded_and_html_becomes_entities() {
    let tg = Emulator::start(TOKEN).await.unwrap();
    let alice = tg.user(42, "Alice", Some("en"));
    let url = format!("{}/bot{TOKEN}/sendMessage", tg.api_url());
    let resp = reqwest::Client::new()
        .post(url)
        .form(&[
            ("chat_id", "42"),
            ("text", "<b>Hi</b> there"),
            ("parse_mode", "HTML"),
            (
                "reply_markup",
                r#"{"inline_keyboard":[[{"text":"A","callback_data":"a"}]]}"#,
            ),
        ])
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["result"]["text"], "Hi there");
    assert_eq!(body["result"]["entities"][0]["type"], "bold");
    let last = tg.last_message(alice.id).unwrap();
    assert_eq!(last.buttons(), vec!["a".to_owned()]);
    assert_eq!(tg.count("sendMessage"), 1);
}

#[tokio::test]
async fn get_updates_waits_for_an_update_and_offset_confirms_it() {
    let tg = Emulator::start(TOKEN).await.unwrap();
    let alice = tg.user(42, "Alice", None);
    let started = Instant::now();
    let poll = tokio::spawn({
        let url = format!("{}/bot{TOKEN}/getUpdates", tg.api_url());
        async move {
            let resp = reqwest::Client::new()
                .post(url)
                .json(&json!({"timeout": 10}))
                .send()
                .await
                .unwrap();
            resp.json::<Value>().await.unwrap()
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let id = tg.send_text(&alice, "/start");
    let body = poll.await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "long poll returned on arrival"
    );
    assert_eq!(body["result"][0]["update_id"], id);
    assert_eq!(body["result"][0]["message"]["text"], "/start");
    let (_, again) = post(&tg, "getUpdates", json!({"offset": id + 1})).await;
    assert_eq!(again["result"], json!([]));
    tg.wait_drained().await;
}

#[tokio::test]
async fn injected_failures_use_telegrams_error_shapes() {
    let tg = Emulator::start(TOKEN).await.unwrap();
    tg.user(42, "Alice", None);
    tg.fail_next(Some("sendMessage"), 1, Failure::RetryAfter(2));
    let (status, body) = post(&tg, "sendMessage", json!({"chat_id": 42, "text": "x"})).await;
    assert_eq!(status, 429);
    assert_eq!(body["parameters"]["retry_after"], 2);
    tg.fail_next(None, 1, Failure::Blocked);
    let (status, body) = post(&tg, "sendMessage", json!({"chat_id": 42, "text": "x"})).await;
    assert_eq!(status, 403);
    assert_eq!(
        body["description"],
        "Forbidden: bot was blocked by the user"
    );
    let (status, _) = post(&tg, "sendMessage", json!({"chat_id": 42, "text": "x"})).await;
    assert_eq!(status, 200);
    let (status, body) = post(&tg, "sendMessage", json!({"chat_id": 9, "text": "x"})).await;
    assert_eq!(
        (status, body["description"].as_str()),
        (400, Some("Bad Request: chat not found"))
    );
}

#[tokio::test]
async fn stars_invoices_need_an_empty_provider_token_and_one_price() {
    let tg = Emulator::start(TOKEN).await.unwrap();
    tg.user(42, "Alice", None);
    let invoice = json!({"chat_id": 42, "title": "Month", "description": "30 days",
        "payload": "p", "currency": "XTR", "prices": [{"label": "Month", "amount": 100}]});
    let (status, body) = post(&tg, "sendInvoice", invoice.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(body["result"]["invoice"]["total_amount"], 100);
    let mut bad = invoice;
    bad["provider_token"] = json!("tok");
    let (status, _) = post(&tg, "sendInvoice", bad).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn editing_to_the_same_content_is_refused_as_not_modified() {
    let tg = Emulator::start(TOKEN).await.unwrap();
    tg.user(42, "Alice", None);
    let (_, sent) = post(&tg, "sendMessage", json!({"chat_id": 42, "text": "menu"})).await;
    let id = sent["result"]["message_id"].clone();
    let (status, body) = post(
        &tg,
        "editMessageText",
        json!({"chat_id": 42, "message_id": id, "text": "menu"}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body["description"]
        .as_str()
        .unwrap()
        .contains("message is not modified"));
    let (status, body) = post(
        &tg,
        "editMessageText",
        json!({"chat_id": 42, "message_id": id, "text": "new"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["result"]["text"], "new");
}

#[tokio::test]
async fn a_raw_update_is_handed_out_byte_for_byte_between_the_others() {
    let tg = Emulator::start(TOKEN).await.unwrap();
    let alice = tg.user(42, "Alice", None);
    let first = tg.send_text(&alice, "one");
    let bad = tg.inject_unparseable(&alice);
    let last = tg.send_text(&alice, "two");
    assert_eq!((bad, last), (first + 1, first + 2));
    let url = format!("{}/bot{TOKEN}/getUpdates", tg.api_url());
    let text = reqwest::Client::new()
        .post(url)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains(&format!(r#"{{"update_id":{bad},"message":"#)));
    assert!(text.contains(r#""text":"\ud800""#), "{text}");
    assert!(
        serde_json::from_str::<Value>(&text).is_err(),
        "serde_json refuses the batch"
    );
    let (_, rest) = post(&tg, "getUpdates", json!({"offset": bad + 1})).await;
    assert_eq!(rest["result"][0]["update_id"], last);
    assert_eq!(rest["result"][0]["message"]["text"], "two");
}

#[tokio::test]
async fn a_held_chat_is_answered_only_once_released_and_calls_note_their_arrival() {
    let tg = Emulator::start(TOKEN).await.unwrap();
    tg.user(42, "Alice", None);
    tg.user(43, "Bob", None);
    tg.hold_chat(42);
    let started = Instant::now();
    let held = tokio::spawn({
        let url = format!("{}/bot{TOKEN}/sendMessage", tg.api_url());
        async move {
            reqwest::Client::new()
                .post(url)
                .json(&json!({"chat_id": 42, "text": "slow"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, _) = post(&tg, "sendMessage", json!({"chat_id": 43, "text": "fast"})).await;
    assert_eq!(status, 200);
    assert!(!held.is_finished(), "the held chat's call is still waiting");
    assert_eq!(tg.count("sendMessage"), 1);
    tg.release_chat(42);
    assert_eq!(held.await.unwrap(), 200);
    let calls = tg.calls();
    assert_eq!(calls[1].params.str("text").as_deref(), Some("slow"));
    assert!(
        calls[1].at < calls[0].at,
        "arrival time, not answer time: the held call came first"
    );
    assert!(calls[1].at >= started);
}

#[tokio::test]
async fn drained_also_waits_for_calls_made_after_the_confirmation() {
    let tg = Emulator::start(TOKEN).await.unwrap();
    let alice = tg.user(42, "Alice", None);
    let id = tg.send_text(&alice, "/start");
    // A bot that confirms first and answers 100 ms later.
    let (_, _) = post(&tg, "getUpdates", json!({"offset": id + 1})).await;
    let bot = tokio::spawn({
        let url = format!("{}/bot{TOKEN}/sendMessage", tg.api_url());
        async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            reqwest::Client::new()
                .post(url)
                .json(&json!({"chat_id": 42, "text": "hello"}))
                .send()
                .await
                .unwrap();
        }
    });
    tg.wait_confirmed().await;
    assert_eq!(tg.count("sendMessage"), 0, "confirmed, not yet answered");
    tg.wait_drained().await;
    assert_eq!(tg.count("sendMessage"), 1, "drained waits for the answer");
    bot.await.unwrap();
}
