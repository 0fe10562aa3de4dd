//! "Manage my data on the website", against the Telegram emulator over HTTP and the real website
//! on loopback, on SQLite and PostgreSQL: the person presses the button under Privacy & my data,
//! gets a link (without a preview), and the link opens their data page, downloads their data and
//! deletes the account; asking again makes the older link stop working.
#![allow(clippy::unwrap_used)]

mod harness;

use domain::TelegramId;
use harness::{entities, Harness, PUBLIC_URL};
use store::testing::TestDb;
use tg_emulator::SentMessage;

const CAROL: i64 = 1_000_222_333;

/// The website on loopback for the same app; returns its base URL (served until aborted).
async fn website(h: &Harness) -> (String, tokio::task::JoinHandle<()>) {
    let site = harness::site(&h.app);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        axum::serve(listener, web::router(site)).await.unwrap();
    });
    (base, server)
}

/// Presses "Manage my data on the website" and returns the path of the link the bot sent.
async fn ask_for_a_link(h: &Harness, who: &tg_emulator::TgUser) -> String {
    h.press(who, "weblink").await;
    let call = h.next("sendMessage", who.id).await;
    let preview = call.params.json("link_preview_options").unwrap();
    assert_eq!(
        preview["is_disabled"], true,
        "Telegram must not fetch the page"
    );
    let message: SentMessage = h.screen(who.id);
    assert!(message.text().contains("15 minutes"), "{}", message.text());
    assert_eq!(message.buttons(), ["privacy"]);
    let urls: Vec<String> = message.json["entities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "text_link")
        .map(|e| e["url"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(urls.len(), 1, "{:?}", entities(&message, "text_link"));
    let path = urls[0].strip_prefix(PUBLIC_URL).unwrap();
    assert!(path.starts_with("/account/"), "{path}");
    // The page speaks the person's language.
    path.strip_suffix("?lang=en").unwrap().to_owned()
}

async fn the_button_gives_a_link_that_works_on_the_website(db: &TestDb) {
    let h = Harness::start(db).await;
    let carol = h.tg.user(CAROL, "Carol", Some("en"));
    h.tg.register(&carol);
    h.tg.send_text(&carol, "/start");
    h.next("sendMessage", CAROL).await;
    h.press(&carol, "agree:en").await;
    h.press(&carol, "privacy").await;
    assert!(h.screen(CAROL).buttons().contains(&"weblink".to_owned()));

    let first = ask_for_a_link(&h, &carol).await;
    let (base, server) = website(&h).await;
    let web = |path: &str| format!("{base}{path}");
    let http = reqwest::Client::new();

    let page = http
        .get(format!("{}?lang=en", web(&first)))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let body = page.text().await.unwrap();
    assert!(body.contains("Download my data"), "{body}");

    let export = http
        .post(format!("{}/export", web(&first)))
        .send()
        .await
        .unwrap();
    assert_eq!(export.status().as_u16(), 200);
    let document: serde_json::Value = export.json().await.unwrap();
    assert_eq!(document["profile"]["telegram_id"], CAROL);

    // Asking again: the new link works, the old one is dead.
    let second = ask_for_a_link(&h, &carol).await;
    assert_ne!(first, second);
    let old = http.get(web(&first)).send().await.unwrap();
    assert_eq!(old.status().as_u16(), 410);
    let old = http
        .post(format!("{}/delete", web(&first)))
        .form(&[("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(old.status().as_u16(), 410);
    assert!(db
        .store
        .user_by_telegram(TelegramId(CAROL))
        .await
        .unwrap()
        .is_some());

    let deleted = http
        .post(format!("{}/delete", web(&second)))
        .form(&[("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status().as_u16(), 200);
    assert!(db
        .store
        .user_by_telegram(TelegramId(CAROL))
        .await
        .unwrap()
        .is_none());
    let after = http.get(web(&second)).send().await.unwrap();
    assert_eq!(after.status().as_u16(), 410);
    server.abort();
}

store::backend_tests!(the_button_gives_a_link_that_works_on_the_website);
