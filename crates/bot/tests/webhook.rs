//! Webhook mode: the bot registers its webhook with a secret instead of polling, and the route
//! the website mounts accepts Telegram's updates only with that secret.
#![allow(clippy::unwrap_used)]

mod harness;

use bot::{BotOptions, TrialKey, SECRET_HEADER};
use harness::Harness;
use store::testing::TestDb;
use tokio_util::sync::CancellationToken;

const HOOK: &str = "https://vpn.test/telegram/hook";

/// The bot's webhook route served on loopback until `shutdown`; returns its URL.
async fn serve_hook(app: &app::App, options: &BotOptions, shutdown: &CancellationToken) -> String {
    let router = bot::webhook_router(app.clone(), options, shutdown.clone()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/telegram/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

/// Posts `update` to the webhook at `url` with `secret` (if any); returns the status.
async fn post_update(url: &str, secret: Option<&str>, update: &serde_json::Value) -> u16 {
    let mut request = reqwest::Client::new().post(url).json(update);
    if let Some(secret) = secret {
        request = request.header(SECRET_HEADER, secret);
    }
    request.send().await.unwrap().status().as_u16()
}

async fn updates_arrive_through_the_webhook_with_its_secret(db: &TestDb) {
    let h = Harness::start_with(db, |settings| settings.bot.webhook_url = HOOK.into()).await;
    assert_eq!(
        bot::username(h.bot_settings()).await.unwrap().as_deref(),
        Some(tg_emulator::BOT_USERNAME)
    );
    let registered = h.tg.wait_for(|c| c.method == "setWebhook").await;
    assert_eq!(registered.params.str("url").as_deref(), Some(HOOK));
    assert_eq!(registered.params.i64("max_connections"), Some(1));
    let key = TrialKey::new(vec![42u8; 32]).unwrap();
    let secret = key.webhook_secret();
    assert_eq!(registered.params.str("secret_token"), Some(secret.clone()));

    let shutdown = CancellationToken::new();
    let options = BotOptions::new(h.bot_settings().clone(), key);
    let url = serve_hook(&h.app, &options, &shutdown).await;

    let ivy = h.tg.user(3001, "Ivy", Some("en"));
    let mut update = h.tg.text_update(&ivy, "/start");
    update["update_id"] = serde_json::json!(555);
    assert_eq!(post_update(&url, None, &update).await, 401);
    assert_eq!(post_update(&url, Some("nope"), &update).await, 401);
    assert_eq!(h.tg.count("sendMessage"), 0);

    assert_eq!(post_update(&url, Some(&secret), &update).await, 200);
    h.next("sendMessage", ivy.id).await;
    assert!(h.screen(ivy.id).text().contains("privacy policy"));

    // Telegram retrying the same update acts once.
    assert_eq!(post_update(&url, Some(&secret), &update).await, 200);
    assert_eq!(h.tg.count("sendMessage"), 1);
    shutdown.cancel();
}

/// Telegram waits for each answer before the next delivery: it gets one as soon as the update
/// is queued, even while that person's handling hangs, and other people are handled meanwhile.
async fn the_webhook_answers_at_once_and_handles_people_side_by_side(db: &TestDb) {
    let h = Harness::start_with(db, |settings| settings.bot.webhook_url = HOOK.into()).await;
    h.tg.wait_for(|c| c.method == "setWebhook").await;
    let key = TrialKey::new(vec![42u8; 32]).unwrap();
    let secret = key.webhook_secret();
    let options = BotOptions::new(h.bot_settings().clone(), key);
    let metrics = options.metrics.clone();
    let shutdown = CancellationToken::new();
    let url = serve_hook(&h.app, &options, &shutdown).await;
    let client = reqwest::Client::new();
    let deliver = |body: String| {
        client
            .post(&url)
            .header(SECRET_HEADER, &secret)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };

    let ada = h.tg.user(3101, "Ada", Some("en"));
    let bob = h.tg.user(3102, "Bob", Some("en"));
    h.tg.hold_chat(ada.id);
    for (id, who) in [(701, &ada), (702, &ada), (703, &bob)] {
        let mut update = h.tg.text_update(who, "/start");
        update["update_id"] = serde_json::json!(id);
        let answered = deliver(update.to_string()).await.unwrap();
        assert_eq!(
            answered.status().as_u16(),
            200,
            "answered while Ada's reply hangs"
        );
    }
    h.next("sendMessage", bob.id).await;
    let unreadable = r#"{"update_id":704,"message":{"text":"\ud800"}}"#;
    assert_eq!(
        deliver(unreadable.into()).await.unwrap().status().as_u16(),
        200
    );
    assert_eq!(metrics.unreadable_updates(), 1);

    h.tg.release_chat(ada.id);
    h.next("sendMessage", ada.id).await;
    h.next("sendMessage", ada.id).await;
    shutdown.cancel();
}

store::backend_tests!(
    updates_arrive_through_the_webhook_with_its_secret,
    the_webhook_answers_at_once_and_handles_people_side_by_side
);
