//! Webhook mode: the bot registers its webhook with a secret instead of polling, and the route
//! the website mounts accepts Telegram's updates only with that secret.
#![allow(clippy::unwrap_used)]

mod harness;

use bot::{BotOptions, TrialKey, SECRET_HEADER};
use harness::Harness;
use store::testing::TestDb;
use tokio_util::sync::CancellationToken;

const HOOK: &str = "https://vpn.test/telegram/hook";

async fn updates_arrive_through_the_webhook_with_its_secret(db: &TestDb) {
    let h = Harness::start_with(db, |config| config.telegram.webhook_url = HOOK.into()).await;
    assert_eq!(
        bot::username(&h.app).await.unwrap().as_deref(),
        Some(tg_emulator::BOT_USERNAME)
    );
    let registered = h.tg.wait_for(|c| c.method == "setWebhook").await;
    assert_eq!(registered.params.str("url").as_deref(), Some(HOOK));
    assert_eq!(registered.params.i64("max_connections"), Some(1));
    let key = TrialKey::new(vec![42u8; 32]).unwrap();
    let secret = key.webhook_secret();
    assert_eq!(registered.params.str("secret_token"), Some(secret.clone()));

    let shutdown = CancellationToken::new();
    let router =
        bot::webhook_router(h.app.clone(), &BotOptions::new(key), shutdown.clone()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/telegram/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });

    let ivy = h.tg.user(3001, "Ivy", Some("en"));
    let mut update = h.tg.text_update(&ivy, "/start");
    update["update_id"] = serde_json::json!(555);
    let client = reqwest::Client::new();
    let refused = client.post(&url).json(&update).send().await.unwrap();
    assert_eq!(refused.status().as_u16(), 401);
    let wrong = client
        .post(&url)
        .header(SECRET_HEADER, "nope")
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    assert_eq!(h.tg.count("sendMessage"), 0);

    let accepted = client
        .post(&url)
        .header(SECRET_HEADER, &secret)
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status().as_u16(), 200);
    h.next("sendMessage", ivy.id).await;
    assert!(h.screen(ivy.id).text().contains("privacy policy"));

    // Telegram retrying the same update acts once.
    let again = client
        .post(&url)
        .header(SECRET_HEADER, &secret)
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 200);
    assert_eq!(h.tg.count("sendMessage"), 1);
    shutdown.cancel();
}

store::backend_tests!(updates_arrive_through_the_webhook_with_its_secret);
